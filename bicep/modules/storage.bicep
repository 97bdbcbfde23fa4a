// ADLS Gen2 lake: one StorageV2 account with hierarchical namespace and a single `lake` container holding the
// medallion folders (bronze/, silver/, gold/, quarantine/, landing/, _runs/, _checkpoints/). One container because
// the Lake seam is one root (C360_LAKE_URL = https://<account>.dfs.core.windows.net/lake) and every lake path
// starts with its layer; HNS makes each layer a real directory with its own ACLs, and lifecycle rules target the
// layers by prefix.

@description('Storage account name (3-24 lower-case letters and digits).')
param name string
param location string
param tags object
@description('Replication: Standard_LRS for dev, Standard_ZRS or Standard_GZRS for prod.')
param skuName string = 'Standard_LRS'
@description('Days before quarantined records are deleted (they are kept for replay and audit).')
param quarantineRetentionDays int = 90
@description('Days before processed landing drops are deleted.')
param landingRetentionDays int = 30
@description('Days before Bronze files move to the cool tier (Bronze is immutable and replayable).')
param bronzeCoolAfterDays int = 30
@description('Days before Bronze files move to the archive tier; 0 keeps them in cool.')
param bronzeArchiveAfterDays int = 0
@description('Days before run manifests are deleted.')
param runManifestRetentionDays int = 400

var lakeContainer = 'lake'

resource account 'Microsoft.Storage/storageAccounts@2026-04-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: skuName
  }
  kind: 'StorageV2'
  properties: {
    isHnsEnabled: true
    accessTier: 'Hot'
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    // Entra ID only: the factory and the job use managed identities, no account keys.
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    publicNetworkAccess: 'Enabled'
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2026-04-01' = {
  parent: account
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

resource lake 'Microsoft.Storage/storageAccounts/blobServices/containers@2026-04-01' = {
  parent: blobService
  name: lakeContainer
  properties: {
    publicAccess: 'None'
  }
}

var bronzeActions = bronzeArchiveAfterDays > 0
  ? {
      tierToCool: {
        daysAfterModificationGreaterThan: bronzeCoolAfterDays
      }
      tierToArchive: {
        daysAfterModificationGreaterThan: bronzeArchiveAfterDays
      }
    }
  : {
      tierToCool: {
        daysAfterModificationGreaterThan: bronzeCoolAfterDays
      }
    }

resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2026-04-01' = {
  parent: account
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'bronze-tiering'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                '${lakeContainer}/bronze/'
              ]
            }
            actions: {
              baseBlob: bronzeActions
            }
          }
        }
        {
          name: 'quarantine-retention'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                '${lakeContainer}/quarantine/'
              ]
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterModificationGreaterThan: quarantineRetentionDays
                }
              }
            }
          }
        }
        {
          name: 'landing-retention'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                '${lakeContainer}/landing/'
              ]
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterModificationGreaterThan: landingRetentionDays
                }
              }
            }
          }
        }
        {
          name: 'run-manifest-retention'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                '${lakeContainer}/_runs/'
              ]
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterModificationGreaterThan: runManifestRetentionDays
                }
              }
            }
          }
        }
      ]
    }
  }
}

output id string = account.id
output name string = account.name
output dfsUrl string = account.properties.primaryEndpoints.dfs
output lakeFileSystem string = lake.name
@description('C360_LAKE_URL for the jobs: the lake container on the dfs endpoint.')
output lakeUrl string = '${account.properties.primaryEndpoints.dfs}${lake.name}'
