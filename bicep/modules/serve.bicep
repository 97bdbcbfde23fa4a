// The profile API (`c360 serve --source lake`): a Container App with external HTTPS ingress in the jobs' environment,
// its own user-assigned identity with Storage Blob Data Reader on the lake container only (it reads the Gold snapshot;
// it never writes) and Key Vault Secrets User on its API-keys secret only. Each replica loads the latest Gold profile
// snapshot into its own embedded DuckDB copy at start (readiness: /health is 503 until then) and swaps to a new one
// when it lands. Callers authenticate with API keys (Key Vault secret `apiKeysSecretName`: KEY:ROLE[:NAME],...;
// create it before deploying) and, when entraAudience is set, Entra ID access tokens of this tenant (app roles
// agent / analyst). JSON logs and the audit log (stdout) go to Log Analytics.

param name string
param location string
param tags object
param environmentId string
@description('Image with the c360 CLI (the same image as the jobs).')
param image string
@description('Registry server to pull from with the API identity (AcrPull); empty for a public image.')
param registryServer string = ''
param containerRegistryName string = ''
param storageAccountName string
param lakeFileSystem string
param lakeUrl string
param keyVaultName string
param keyVaultUri string
param apiKeysSecretName string = 'serve-api-keys'
@description('Application id URI or client id of the API\'s Entra app registration (the tokens\' aud); empty: API keys only.')
param entraAudience string = ''
@description('Seconds between checks of the lake for a new snapshot.')
param pollSeconds int = 60
@description('Requests per second per caller before 429.')
param rateLimit int = 100
param cpu string = '1'
@description('Memory per replica: the snapshot copy lives on the replica (about 1 GB per million customers during a swap).')
param memory string = '2Gi'
param minReplicas int = 1
param maxReplicas int = 5
@description('Concurrent requests per replica before another replica is added.')
param concurrentRequests int = 100

var port = 8081
var roles = {
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  acrPull: '7f951dce-4c06-4d57-9fd0-2c06b3d6e2b0'
}
var entraEnv = empty(entraAudience)
  ? []
  : [
      {
        name: 'C360_ENTRA_TENANT_ID'
        value: tenant().tenantId
      }
      {
        name: 'C360_ENTRA_AUDIENCE'
        value: entraAudience
      }
    ]

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: '${name}-id'
  location: location
  tags: tags
}

resource account 'Microsoft.Storage/storageAccounts@2026-04-01' existing = {
  name: storageAccountName
}

resource blobs 'Microsoft.Storage/storageAccounts/blobServices@2026-04-01' existing = {
  parent: account
  name: 'default'
}

resource lakeContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2026-04-01' existing = {
  parent: blobs
  name: lakeFileSystem
}

resource readsLake 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(lakeContainer.id, identity.id, roles.storageBlobDataReader)
  scope: lakeContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataReader)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource vault 'Microsoft.KeyVault/vaults@2026-02-01' existing = {
  name: keyVaultName
}

resource apiKeys 'Microsoft.KeyVault/vaults/secrets@2026-02-01' existing = {
  parent: vault
  name: apiKeysSecretName
}

resource readsApiKeys 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(apiKeys.id, identity.id, roles.keyVaultSecretsUser)
  scope: apiKeys
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
    readsLake
    readsApiKeys
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
          name: 'api-keys'
          keyVaultUrl: '${keyVaultUri}secrets/${apiKeysSecretName}'
          identity: identity.id
        }
      ]
    }
    template: {
      containers: [
        {
          name: 'serve'
          image: image
          args: [
            'serve'
            '--source'
            'lake'
            '--host'
            '0.0.0.0'
            '--port'
            string(port)
            '--poll'
            string(pollSeconds)
            '--rate-limit'
            string(rateLimit)
            '--audit-log'
            '-'
            '--json'
          ]
          env: concat(
            [
              {
                name: 'C360_LAKE_URL'
                value: lakeUrl
              }
              {
                name: 'AZURE_CLIENT_ID'
                value: identity.properties.clientId
              }
              {
                name: 'C360_API_KEYS'
                secretRef: 'api-keys'
              }
            ],
            entraEnv
          )
          resources: {
            cpu: json(cpu)
            memory: memory
          }
          probes: [
            {
              // The process is alive while it listens, also before its first snapshot is in.
              type: 'Liveness'
              tcpSocket: {
                port: port
              }
              periodSeconds: 10
            }
            {
              // /health is 503 until the first snapshot is loaded: no traffic reaches a replica that cannot answer.
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

@description('Base URL of the profile API.')
output url string = 'https://${app.properties.configuration.ingress.fqdn}'
output principalId string = identity.properties.principalId
