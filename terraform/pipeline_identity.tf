# The pipeline's identity: the identity behind the Azure DevOps service connection (AzureMLWorkspace,
# scoped to the ML workspace, workload identity federation).
#
# By default a user-assigned managed identity created here, in the ML resource group: it needs no
# Microsoft Entra directory rights (no app registration), only the Contributor-level rights this
# module needs anyway, and its federated credential (added by the CLI once Azure DevOps has told it
# the connection's issuer and subject) is an Azure resource under it, deleted with it. With
# `pipeline_sp_object_id` set, an existing service principal (app registration) is used instead —
# the CLI does that for `--pipeline-identity app-registration` and for client-secret connections,
# which a managed identity cannot have.
# It runs `az ml job create`, `az ml model create`,
# `az ml online-endpoint create/update/show/get-credentials` and `az ml online-deployment create`
# against the workspace, and nothing outside it.
#
# One role, on the workspace only: AzureML Data Scientist. It allows every action inside the
# workspace (jobs, models, environments, data, datastore secrets for code upload, online endpoints
# and deployments, including listKeys/token for scoring, reading computes) and denies changing the
# workspace itself and creating, deleting or changing computes, which stay with terraform. Creating a
# Kubernetes online endpoint needs Microsoft.MachineLearningServices/workspaces/onlineEndpoints/write
# on the workspace, which this role includes; its system-assigned identity gets AcrPull and Storage
# Blob Data Reader from Azure ML itself. No role on the resource group, the AKS cluster, the registry
# or the storage account is needed: Azure ML acts on those with its own identities. (Microsoft's
# "Manage roles in your workspace": online endpoints need onlineEndpoints/* at the workspace and
# nothing at the resource group, unless created from the studio.)
resource "azurerm_user_assigned_identity" "pipeline" {
  count               = var.pipeline_sp_object_id == null ? 1 : 0
  name                = local.names.pipeline_identity
  location            = azurerm_resource_group.ml.location
  resource_group_name = azurerm_resource_group.ml.name
  tags                = local.tags
}

locals {
  pipeline_principal_id = var.pipeline_sp_object_id == null ? azurerm_user_assigned_identity.pipeline[0].principal_id : var.pipeline_sp_object_id
}

resource "azurerm_role_assignment" "pipeline_data_scientist" {
  scope                = azurerm_machine_learning_workspace.main.id
  role_definition_name = "AzureML Data Scientist"
  principal_id         = local.pipeline_principal_id
  principal_type       = "ServicePrincipal" # also right for a managed identity; skips the Entra lookup that races a new identity's replication
  description          = "azure-mlops pipeline: run jobs, register models, deploy online endpoints"
}
