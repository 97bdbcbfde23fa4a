// Least-privilege role assignments of the Data Factory's system-assigned identity: start, watch and stop executions
// of the one Container Apps job (a custom role scoped to that job), read Key Vault secrets (the Snowflake linked
// service), read the lake (datasets for monitoring lookups). Deployed after the job exists.

param factoryPrincipalId string
param storageAccountName string
param keyVaultName string
param containerAppsJobName string

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

resource vault 'Microsoft.KeyVault/vaults@2026-02-01' existing = {
  name: keyVaultName
}

resource job 'Microsoft.App/jobs@2026-01-01' existing = {
  name: containerAppsJobName
}

resource jobOperator 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, 'c360-container-apps-job-operator')
  properties: {
    roleName: 'C360 Container Apps Job Operator (${resourceGroup().name})'
    description: 'Start, read and stop executions of Container Apps jobs (Data Factory job runner).'
    type: 'CustomRole'
    assignableScopes: [
      resourceGroup().id
    ]
    permissions: [
      {
        actions: [
          'Microsoft.App/jobs/read'
          'Microsoft.App/jobs/start/action'
          'Microsoft.App/jobs/execution/read'
          'Microsoft.App/jobs/executions/read'
          // Stop one execution (the runner's timeout), not `jobs/stop/action`, which stops them all.
          'Microsoft.App/jobs/stop/execution/action'
        ]
        notActions: []
      }
    ]
  }
}

resource factoryStartsJob 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(job.id, factoryPrincipalId, jobOperator.id)
  scope: job
  properties: {
    roleDefinitionId: jobOperator.id
    principalId: factoryPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource factoryReadsSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, factoryPrincipalId, roles.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: factoryPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource factoryReadsLake 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, factoryPrincipalId, roles.storageBlobDataReader)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataReader)
    principalId: factoryPrincipalId
    principalType: 'ServicePrincipal'
  }
}
