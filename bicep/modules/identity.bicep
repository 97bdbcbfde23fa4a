// The job's user-assigned identity: created before the job so role assignments (lake, Event Hubs, Key Vault,
// registry) can exist before the first execution pulls the image or reads a secret.

param name string
param location string
param tags object

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output principalId string = identity.properties.principalId
output clientId string = identity.properties.clientId
