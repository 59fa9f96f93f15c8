# The pipeline's identity: the service principal of the Azure DevOps service connection
# (AzureMLWorkspace, scoped to the ML workspace). It runs `az ml job create`, `az ml model create`,
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
resource "azurerm_role_assignment" "pipeline_data_scientist" {
  scope                = azurerm_machine_learning_workspace.main.id
  role_definition_name = "AzureML Data Scientist"
  principal_id         = var.pipeline_sp_object_id
  principal_type       = "ServicePrincipal"
  description          = "azure-mlops pipeline: run jobs, register models, deploy online endpoints"
}
