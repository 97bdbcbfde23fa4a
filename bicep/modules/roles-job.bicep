// Least-privilege role assignments of the job's user-assigned identity: read/write the lake, receive from Event
// Hubs, read Key Vault secrets (the Snowflake key as a Container Apps secret), pull the image when a registry in
// this resource group is named. Deployed before the job, which resolves its secrets and image with this identity.

param jobPrincipalId string
param storageAccountName string
param eventHubsNamespaceName string
param keyVaultName string
@description('Name of an Azure Container Registry in this resource group to grant AcrPull on; empty to skip.')
param containerRegistryName string = ''

// Built-in role definition ids (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles).
var roles = {
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
  eventHubsDataReceiver: 'a638d3c7-ab3a-418d-83e6-5f17a39d4fde'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  acrPull: '7f951dce-4c06-4d57-9fd0-2c06b3d6e2b0'
}

resource account 'Microsoft.Storage/storageAccounts@2026-04-01' existing = {
  name: storageAccountName
}

resource namespace 'Microsoft.EventHub/namespaces@2026-01-01' existing = {
  name: eventHubsNamespaceName
}

resource vault 'Microsoft.KeyVault/vaults@2026-02-01' existing = {
  name: keyVaultName
}

resource jobWritesLake 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, jobPrincipalId, roles.storageBlobDataContributor)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: jobPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource jobReceivesEvents 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(namespace.id, jobPrincipalId, roles.eventHubsDataReceiver)
  scope: namespace
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.eventHubsDataReceiver)
    principalId: jobPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource jobReadsSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, jobPrincipalId, roles.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: jobPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' existing = if (!empty(containerRegistryName)) {
  name: empty(containerRegistryName) ? 'none' : containerRegistryName
}

resource jobPullsImage 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(containerRegistryName)) {
  name: guid(resourceGroup().id, containerRegistryName, jobPrincipalId, roles.acrPull)
  scope: registry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.acrPull)
    principalId: jobPrincipalId
    principalType: 'ServicePrincipal'
  }
}
