// Key Vault (RBAC authorization) for the Snowflake private key and other secrets. Secrets are set out of band
// (az keyvault secret set), never in templates.

param name string
param location string
param tags object
@description('Purge protection cannot be turned off again: true for prod.')
param enablePurgeProtection bool = false
param softDeleteRetentionInDays int = 90

resource vault 'Microsoft.KeyVault/vaults@2026-02-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    enablePurgeProtection: enablePurgeProtection ? true : null
    publicNetworkAccess: 'Enabled'
  }
}

output id string = vault.id
output name string = vault.name
output uri string = vault.properties.vaultUri
