// The event collector (`c360 collect`): a Container App with external HTTPS ingress in the jobs' environment, its own
// user-assigned identity with Azure Event Hubs Data Sender on exactly the hubs it writes (and nothing else but the
// Key Vault secret with the write keys), health probes on /health, JSON logs to Log Analytics, HTTP scaling.
// The write keys live in Key Vault (secret `writeKeysSecretName`: KEY[:TENANT[:SOURCE]],... ) and reach the container
// as C360_COLLECT_WRITE_KEYS; create the secret before deploying this module (Container Apps resolves it on deploy).

param name string
param location string
param tags object
param environmentId string
@description('Image with the c360 CLI (the same image as the jobs).')
param image string
@description('Registry server to pull from with the collector identity (AcrPull); empty for a public image.')
param registryServer string = ''
param containerRegistryName string = ''
param eventHubsNamespaceName string
@description('The hubs the collector writes: behavioural events first, then identity records.')
param hubs array = [
  'c360-behavioral-events'
  'c360-id-resolution'
]
param keyVaultName string
param keyVaultUri string
param writeKeysSecretName string = 'collect-write-keys'
@description('Public base URL the settings endpoint hands to analytics.js (default: the app\'s own FQDN).')
param publicUrl string = ''
param cpu string = '0.5'
param memory string = '1Gi'
param minReplicas int = 1
param maxReplicas int = 10
@description('Concurrent requests per replica before another replica is added.')
param concurrentRequests int = 200

var port = 8080
var roles = {
  eventHubsDataSender: '2b629674-e913-4c01-ae53-ef4638d8f975'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  acrPull: '7f951dce-4c06-4d57-9fd0-2c06b3d6e2b0'
}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: '${name}-id'
  location: location
  tags: tags
}

resource namespace 'Microsoft.EventHub/namespaces@2026-01-01' existing = {
  name: eventHubsNamespaceName
}

resource hub 'Microsoft.EventHub/namespaces/eventhubs@2026-01-01' existing = [
  for h in hubs: {
    parent: namespace
    name: h
  }
]

resource sends 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (h, i) in hubs: {
    name: guid(hub[i].id, identity.id, roles.eventHubsDataSender)
    scope: hub[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.eventHubsDataSender)
      principalId: identity.properties.principalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource vault 'Microsoft.KeyVault/vaults@2026-02-01' existing = {
  name: keyVaultName
}

resource writeKeys 'Microsoft.KeyVault/vaults/secrets@2026-02-01' existing = {
  parent: vault
  name: writeKeysSecretName
}

resource readsWriteKeys 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(writeKeys.id, identity.id, roles.keyVaultSecretsUser)
  scope: writeKeys
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' existing = if (!empty(containerRegistryName)) {
  name: empty(containerRegistryName) ? 'none' : containerRegistryName
}

resource pullsImage 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(containerRegistryName)) {
  name: guid(resourceGroup().id, containerRegistryName, identity.id, roles.acrPull)
  scope: registry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.acrPull)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource app 'Microsoft.App/containerApps@2026-01-01' = {
  name: name
  location: location
  tags: tags
  dependsOn: [
    sends
    readsWriteKeys
    pullsImage
  ]
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    environmentId: environmentId
    workloadProfileName: 'Consumption'
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: true
        targetPort: port
        transport: 'http'
        allowInsecure: false
        traffic: [
          {
            latestRevision: true
            weight: 100
          }
        ]
      }
      registries: empty(registryServer)
        ? []
        : [
            {
              server: registryServer
              identity: identity.id
            }
          ]
      secrets: [
        {
          name: 'write-keys'
          keyVaultUrl: '${keyVaultUri}secrets/${writeKeysSecretName}'
          identity: identity.id
        }
      ]
    }
    template: {
      containers: [
        {
          name: 'collect'
          image: image
          args: [
            'collect'
            '--port'
            string(port)
            '--json'
          ]
          env: [
            {
              name: 'C360_EVENTHUBS_NAMESPACE'
              value: '${eventHubsNamespaceName}.servicebus.windows.net'
            }
            {
              name: 'AZURE_CLIENT_ID'
              value: identity.properties.clientId
            }
            {
              name: 'C360_COLLECT_WRITE_KEYS'
              secretRef: 'write-keys'
            }
            {
              name: 'C360_COLLECT_PUBLIC_URL'
              value: publicUrl
            }
          ]
          resources: {
            cpu: json(cpu)
            memory: memory
          }
          probes: [
            {
              type: 'Liveness'
              httpGet: {
                path: '/health'
                port: port
              }
              periodSeconds: 10
            }
            {
              // /health, not /ready: while Event Hubs is down the collector itself answers 503 with Retry-After,
              // which the SDKs honour; an ingress without ready replicas would not.
              type: 'Readiness'
              httpGet: {
                path: '/health'
                port: port
              }
              periodSeconds: 5
            }
          ]
        }
      ]
      scale: {
        minReplicas: minReplicas
        maxReplicas: maxReplicas
        rules: [
          {
            name: 'http'
            http: {
              metadata: {
                concurrentRequests: string(concurrentRequests)
              }
            }
          }
        ]
      }
    }
  }
}

@description('Where SDKs send: analytics-node host, analytics.js apiHost/cdnURL.')
output url string = 'https://${app.properties.configuration.ingress.fqdn}'
output principalId string = identity.properties.principalId
