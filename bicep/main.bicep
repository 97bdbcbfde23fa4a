// Customer 360 lakehouse on Azure: ADLS Gen2 lake, Event Hubs, Data Factory, Container Apps job compute (and the
// event collector app when deployCollector, the profile API app when deployServe), Key Vault,
// Log Analytics with diagnostic settings, least-privilege role assignments. Deploy at resource-group scope:
//   az deployment group create -g <rg> -f bicep/main.bicep -p @bicep/parameters/dev.parameters.json
// The outputs are exactly the parameters of adf-templates/ARMTemplateForFactory.json (same names), so
//   az deployment group show -g <rg> -n main --query properties.outputs > outputs.json
//   c360 adf deploy --subscription S --resource-group <rg> --factory <factoryName> --parameters outputs.json
targetScope = 'resourceGroup'

@description('Environment name, part of every resource name.')
@allowed([
  'dev'
  'prod'
])
param environmentName string
param location string = resourceGroup().location
@description('Short prefix of resource names (lower-case letters and digits).')
@minLength(2)
@maxLength(8)
param namePrefix string = 'c360'
param tags object = {}

@description('Image of the c360 CLI built from the Dockerfile, e.g. myregistry.azurecr.io/c360:1.0.0.')
param jobImage string
@description('Azure Container Registry in this resource group that holds jobImage (AcrPull for the job identity); empty for a public image.')
param containerRegistryName string = ''
param jobCpu string = '2'
param jobMemory string = '4Gi'

param storageSkuName string = 'Standard_LRS'
param quarantineRetentionDays int = 90
param landingRetentionDays int = 30
param bronzeCoolAfterDays int = 30
param bronzeArchiveAfterDays int = 0

param eventHubsSkuName string = 'Standard'
param eventHubsCapacity int = 1
param eventHubs array = [
  'customer360'
]
param eventHubsPartitionCount int = 4

@description('Deploy the event collector (c360 collect) as a Container App. Create the Key Vault secret collectorWriteKeysSecretName first.')
param deployCollector bool = false
@description('Key Vault secret with the collector write keys: KEY[:TENANT[:SOURCE]],...')
param collectorWriteKeysSecretName string = 'collect-write-keys'
param collectorMinReplicas int = 1
param collectorMaxReplicas int = 10

@description('Deploy the profile API (c360 serve) as a Container App. Create the Key Vault secret serveApiKeysSecretName first.')
param deployServe bool = false
@description('Key Vault secret with the API keys: KEY:ROLE[:NAME],... (ROLE agent or analyst)')
param serveApiKeysSecretName string = 'serve-api-keys'
@description('Entra ID: application id URI or client id of the API app registration (app roles agent, analyst); empty: API keys only.')
param serveEntraAudience string = ''
param serveMinReplicas int = 1
param serveMaxReplicas int = 5

param logRetentionInDays int = 30
param keyVaultPurgeProtection bool = false

@description('Snowflake account identifier (orgname-accountname).')
param snowflakeAccountIdentifier string
param snowflakeUser string
param snowflakeDatabase string
param snowflakeWarehouse string
param snowflakeRole string
@description('Key Vault secret that holds the Snowflake private key (PEM, PKCS#8); set it with az keyvault secret set.')
param snowflakePrivateKeySecretName string = 'snowflake-private-key'
@description('Webhook that receives a JSON POST when a pipeline activity or stage fails.')
param notifyWebhookUrl string
param dailyStartTime string = '2026-01-01T02:00:00Z'
param backfillStartTime string = '2026-01-01T00:00:00Z'

var suffix = uniqueString(resourceGroup().id, environmentName)
var allTags = union(tags, {
  app: 'customer360'
  environment: environmentName
})
var names = {
  storage: take(toLower('${namePrefix}${environmentName}${suffix}'), 24)
  eventHubs: '${namePrefix}-${environmentName}-eh-${suffix}'
  workspace: '${namePrefix}-${environmentName}-logs'
  keyVault: take('${namePrefix}-${environmentName}-kv-${suffix}', 24)
  identity: '${namePrefix}-${environmentName}-job-id'
  factory: '${namePrefix}-${environmentName}-adf-${suffix}'
  containerEnvironment: '${namePrefix}-${environmentName}-cae'
  job: '${namePrefix}-${environmentName}-job'
  collector: '${namePrefix}-${environmentName}-collect'
  serve: '${namePrefix}-${environmentName}-serve'
}
// The hubs `c360 collect` writes; always created, so the pipeline's stream_collected activity finds them.
var collectorHubs = [
  'c360-behavioral-events'
  'c360-id-resolution'
]

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    name: names.workspace
    location: location
    tags: allTags
    retentionInDays: logRetentionInDays
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    name: names.storage
    location: location
    tags: allTags
    skuName: storageSkuName
    quarantineRetentionDays: quarantineRetentionDays
    landingRetentionDays: landingRetentionDays
    bronzeCoolAfterDays: bronzeCoolAfterDays
    bronzeArchiveAfterDays: bronzeArchiveAfterDays
  }
}

module eventHubsNamespace 'modules/event-hubs.bicep' = {
  name: 'event-hubs'
  params: {
    name: names.eventHubs
    location: location
    tags: allTags
    skuName: eventHubsSkuName
    capacity: eventHubsCapacity
    hubs: union(eventHubs, collectorHubs)
    partitionCount: eventHubsPartitionCount
  }
}

module keyVault 'modules/key-vault.bicep' = {
  name: 'key-vault'
  params: {
    name: names.keyVault
    location: location
    tags: allTags
    enablePurgeProtection: keyVaultPurgeProtection
  }
}

module jobIdentity 'modules/identity.bicep' = {
  name: 'job-identity'
  params: {
    name: names.identity
    location: location
    tags: allTags
  }
}

module factory 'modules/data-factory.bicep' = {
  name: 'data-factory'
  params: {
    name: names.factory
    location: location
    tags: allTags
  }
}

module jobRoles 'modules/roles-job.bicep' = {
  name: 'roles-job'
  params: {
    jobPrincipalId: jobIdentity.outputs.principalId
    storageAccountName: storage.outputs.name
    eventHubsNamespaceName: eventHubsNamespace.outputs.name
    keyVaultName: keyVault.outputs.name
    containerRegistryName: containerRegistryName
  }
}

// What every `c360 job` execution sees; ADF passes the same list when it overrides the container args.
var jobEnvironment = [
  {
    name: 'C360_HOME'
    value: '/tmp/c360'
  }
  {
    name: 'C360_LAKE_URL'
    value: storage.outputs.lakeUrl
  }
  {
    name: 'AZURE_CLIENT_ID'
    value: jobIdentity.outputs.clientId
  }
  {
    name: 'C360_EVENTHUBS_NAMESPACE'
    value: eventHubsNamespace.outputs.fullyQualifiedNamespace
  }
  {
    name: 'C360_EVENTHUBS_HUB'
    value: first(eventHubs)
  }
  {
    name: 'SNOWFLAKE_ACCOUNT'
    value: snowflakeAccountIdentifier
  }
  {
    name: 'SNOWFLAKE_USER'
    value: snowflakeUser
  }
  {
    name: 'SNOWFLAKE_DATABASE'
    value: snowflakeDatabase
  }
  {
    name: 'SNOWFLAKE_WAREHOUSE'
    value: snowflakeWarehouse
  }
  {
    name: 'SNOWFLAKE_ROLE'
    value: snowflakeRole
  }
  {
    name: 'SNOWFLAKE_PRIVATE_KEY'
    secretRef: 'snowflake-private-key'
  }
]

module jobCompute 'modules/job-compute.bicep' = {
  name: 'job-compute'
  dependsOn: [
    jobRoles
  ]
  params: {
    environmentName: names.containerEnvironment
    jobName: names.job
    location: location
    tags: allTags
    logAnalyticsWorkspaceName: monitoring.outputs.name
    image: jobImage
    registryServer: empty(containerRegistryName) ? '' : '${containerRegistryName}.azurecr.io'
    identityId: jobIdentity.outputs.id
    environmentVariables: jobEnvironment
    keyVaultSecrets: [
      {
        name: 'snowflake-private-key'
        keyVaultUrl: '${keyVault.outputs.uri}secrets/${snowflakePrivateKeySecretName}'
      }
    ]
    cpu: jobCpu
    memory: jobMemory
  }
}

module collector 'modules/collector.bicep' = if (deployCollector) {
  name: 'collector'
  dependsOn: [
    eventHubsNamespace
  ]
  params: {
    name: names.collector
    location: location
    tags: allTags
    environmentId: jobCompute.outputs.environmentId
    image: jobImage
    registryServer: empty(containerRegistryName) ? '' : '${containerRegistryName}.azurecr.io'
    containerRegistryName: containerRegistryName
    eventHubsNamespaceName: eventHubsNamespace.outputs.name
    hubs: collectorHubs
    keyVaultName: keyVault.outputs.name
    keyVaultUri: keyVault.outputs.uri
    writeKeysSecretName: collectorWriteKeysSecretName
    minReplicas: collectorMinReplicas
    maxReplicas: collectorMaxReplicas
  }
}

module serve 'modules/serve.bicep' = if (deployServe) {
  name: 'serve'
  params: {
    name: names.serve
    location: location
    tags: allTags
    environmentId: jobCompute.outputs.environmentId
    image: jobImage
    registryServer: empty(containerRegistryName) ? '' : '${containerRegistryName}.azurecr.io'
    containerRegistryName: containerRegistryName
    storageAccountName: storage.outputs.name
    lakeFileSystem: storage.outputs.lakeFileSystem
    lakeUrl: storage.outputs.lakeUrl
    keyVaultName: keyVault.outputs.name
    keyVaultUri: keyVault.outputs.uri
    apiKeysSecretName: serveApiKeysSecretName
    entraAudience: serveEntraAudience
    minReplicas: serveMinReplicas
    maxReplicas: serveMaxReplicas
  }
}

module factoryRoles 'modules/roles-factory.bicep' = {
  name: 'roles-factory'
  params: {
    factoryPrincipalId: factory.outputs.principalId
    storageAccountName: storage.outputs.name
    keyVaultName: keyVault.outputs.name
    containerAppsJobName: jobCompute.outputs.jobName
  }
}

module diagnostics 'modules/diagnostics.bicep' = {
  name: 'diagnostics'
  params: {
    workspaceId: monitoring.outputs.id
    factoryName: factory.outputs.name
    eventHubsNamespaceName: eventHubsNamespace.outputs.name
    storageAccountName: storage.outputs.name
  }
}

// ---- Outputs: the parameters of the ADF ARM template (src/adf/factory-params.ts), by the same names. ----
output factoryName string = factory.outputs.name
output lakeDfsUrl string = storage.outputs.dfsUrl
output lakeFileSystem string = storage.outputs.lakeFileSystem
output keyVaultUrl string = keyVault.outputs.uri
output containerAppsJobId string = jobCompute.outputs.jobId
output jobImage string = jobImage
output jobEnvironment array = jobEnvironment
output jobResources object = {
  cpu: json(jobCpu)
  memory: jobMemory
}
output snowflakeAccountIdentifier string = snowflakeAccountIdentifier
output snowflakeUser string = snowflakeUser
output snowflakeDatabase string = snowflakeDatabase
output snowflakeWarehouse string = snowflakeWarehouse
output snowflakeRole string = snowflakeRole
output snowflakePrivateKeySecretName string = snowflakePrivateKeySecretName
output notifyWebhookUrl string = notifyWebhookUrl
output dailyStartTime string = dailyStartTime
output backfillStartTime string = backfillStartTime

// ---- Other outputs for operators. ----
output lakeUrl string = storage.outputs.lakeUrl
output eventHubsNamespace string = eventHubsNamespace.outputs.fullyQualifiedNamespace
output logAnalyticsWorkspaceId string = monitoring.outputs.id
@description('The collector URL for analytics-node host / analytics.js apiHost and cdnURL (empty unless deployCollector).')
output collectorUrl string = deployCollector ? collector.outputs.url : ''
@description('The profile API base URL (empty unless deployServe).')
output serveUrl string = deployServe ? serve.outputs.url : ''
