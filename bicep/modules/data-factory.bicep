// The Data Factory shell with a system-assigned identity. Its pipelines, linked services, datasets, triggers and
// global parameters come from adf-templates/ (ARM template) or `c360 adf deploy`.

param name string
param location string
param tags object

resource factory 'Microsoft.DataFactory/factories@2018-06-01' = {
  name: name
  location: location
  tags: tags
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    publicNetworkAccess: 'Enabled'
  }
}

output id string = factory.id
output name string = factory.name
output principalId string = factory.identity.principalId
