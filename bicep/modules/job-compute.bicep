// Job compute: a Container Apps environment and a manually triggered Container Apps job running the c360 image.
// ADF starts an execution per job with the container args overridden (`c360 job <name> --param ...`), polls it and
// stops it on timeout. Retries are ADF's (per activity policy), so the job itself does not retry.

param environmentName string
param jobName string
param location string
param tags object
param logAnalyticsWorkspaceName string
@description('Image with the c360 CLI, e.g. myregistry.azurecr.io/c360:1.2.0 (see Dockerfile).')
param image string
@description('Registry server to pull from with the job identity (AcrPull); empty for a public image.')
param registryServer string = ''
param identityId string
@description('Environment variables of the container ([{name, value}] or [{name, secretRef}]).')
param environmentVariables array
@description('Secrets the container reads by secretRef: [{name, keyVaultUrl}] resolved with the job identity.')
param keyVaultSecrets array = []
@description('CPU cores per execution (Consumption profile: 0.25 .. 4).')
param cpu string = '2'
param memory string = '4Gi'
@description('Upper bound of one execution in seconds; ADF enforces the per-activity timeout below it.')
param replicaTimeoutSeconds int = 86400

resource workspace 'Microsoft.OperationalInsights/workspaces@2025-07-01' existing = {
  name: logAnalyticsWorkspaceName
}

resource environment 'Microsoft.App/managedEnvironments@2026-01-01' = {
  name: environmentName
  location: location
  tags: tags
  properties: {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: workspace.properties.customerId
        sharedKey: workspace.listKeys().primarySharedKey
      }
    }
    workloadProfiles: [
      {
        name: 'Consumption'
        workloadProfileType: 'Consumption'
      }
    ]
  }
}

resource job 'Microsoft.App/jobs@2026-01-01' = {
  name: jobName
  location: location
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    environmentId: environment.id
    workloadProfileName: 'Consumption'
    configuration: {
      triggerType: 'Manual'
      replicaTimeout: replicaTimeoutSeconds
      replicaRetryLimit: 0
      manualTriggerConfig: {
        parallelism: 1
        replicaCompletionCount: 1
      }
      registries: empty(registryServer)
        ? []
        : [
            {
              server: registryServer
              identity: identityId
            }
          ]
      secrets: [
        for s in keyVaultSecrets: {
          name: s.name
          keyVaultUrl: s.keyVaultUrl
          identity: identityId
        }
      ]
    }
    template: {
      containers: [
        {
          // The name ADF's start body overrides (src/adf/job-runner.ts JOB_CONTAINER_NAME).
          name: 'c360'
          image: image
          args: [
            'job'
            '--list'
          ]
          env: environmentVariables
          resources: {
            cpu: json(cpu)
            memory: memory
          }
        }
      ]
    }
  }
}

output environmentId string = environment.id
output jobId string = job.id
output jobName string = job.name
