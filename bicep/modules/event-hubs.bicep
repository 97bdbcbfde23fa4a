// Event Hubs for the streaming path: one namespace, the hubs `c360 stream` / the bronze-stream job read, and a
// consumer group per hub for the Bronze job (checkpoints live in the lake, not in a storage container).

param name string
param location string
param tags object
@allowed([
  'Basic'
  'Standard'
  'Premium'
])
param skuName string = 'Standard'
param capacity int = 1
@description('Hubs to create; the bronze-stream job reads C360_EVENTHUBS_HUB (the first one).')
param hubs array = [
  'customer360'
]
param partitionCount int = 4
param messageRetentionInDays int = 7
@description('Consumer group of the Bronze job on every hub.')
param consumerGroup string = 'bronze'

resource namespace 'Microsoft.EventHub/namespaces@2026-01-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: skuName
    tier: skuName
    capacity: capacity
  }
  properties: {
    minimumTlsVersion: '1.2'
    // Entra ID only: producers and the job authenticate with identities, not SAS keys.
    disableLocalAuth: true
    isAutoInflateEnabled: false
  }
}

resource hub 'Microsoft.EventHub/namespaces/eventhubs@2026-01-01' = [
  for h in hubs: {
    parent: namespace
    name: h
    properties: {
      partitionCount: partitionCount
      messageRetentionInDays: messageRetentionInDays
    }
  }
]

resource group 'Microsoft.EventHub/namespaces/eventhubs/consumergroups@2026-01-01' = [
  for (h, i) in hubs: {
    parent: hub[i]
    name: consumerGroup
    properties: {
      userMetadata: 'Bronze streaming job (c360 job bronze-stream)'
    }
  }
]

output id string = namespace.id
output name string = namespace.name
@description('C360_EVENTHUBS_NAMESPACE: the fully qualified namespace for DefaultAzureCredential.')
output fullyQualifiedNamespace string = '${namespace.name}.servicebus.windows.net'
output hubs array = hubs
output consumerGroup string = consumerGroup
