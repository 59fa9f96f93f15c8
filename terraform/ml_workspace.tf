# The Azure ML workspace and what it is built on: storage account, key vault, Application Insights
# (workspace-based, on a Log Analytics workspace that Container Insights shares), container
# registry; plus the training compute cluster.

resource "azurerm_log_analytics_workspace" "main" {
  name                = local.names.log_analytics
  location            = azurerm_resource_group.ml.location
  resource_group_name = azurerm_resource_group.ml.name
  sku                 = "PerGB2018"
  retention_in_days   = var.log_retention_days
  tags                = local.tags
}

resource "azurerm_application_insights" "main" {
  name                = local.names.application_insights
  location            = azurerm_resource_group.ml.location
  resource_group_name = azurerm_resource_group.ml.name
  application_type    = "web"
  workspace_id        = azurerm_log_analytics_workspace.main.id # classic (non-workspace) mode is retired
  tags                = local.tags
}

resource "azurerm_storage_account" "main" {
  name                             = local.names.storage_account
  location                         = azurerm_resource_group.ml.location
  resource_group_name              = azurerm_resource_group.ml.name
  account_tier                     = "Standard" # Azure ML refuses Premium
  account_replication_type         = "LRS"
  account_kind                     = "StorageV2"
  min_tls_version                  = "TLS1_2"
  allow_nested_items_to_be_public  = false
  cross_tenant_replication_enabled = false
  # The workspace's default datastores authenticate with the account key (kept in the key vault).
  shared_access_key_enabled = true
  tags                      = local.tags
}

resource "azurerm_key_vault" "main" {
  name                       = local.names.key_vault
  location                   = azurerm_resource_group.ml.location
  resource_group_name        = azurerm_resource_group.ml.name
  tenant_id                  = data.azurerm_client_config.current.tenant_id
  sku_name                   = "standard"
  soft_delete_retention_days = 7
  # Purge protection would make the name unusable for 7 days after `destroy`.
  purge_protection_enabled = false
  # Access policies (not RBAC): Azure ML adds the workspace identity's own policy when the
  # workspace is created. No access_policy block here, so terraform leaves those policies alone.
  tags = local.tags
}

resource "azurerm_container_registry" "main" {
  name                = local.names.container_registry
  location            = azurerm_resource_group.ml.location
  resource_group_name = azurerm_resource_group.ml.name
  sku                 = var.container_registry_sku
  # The azurerm documentation of azurerm_machine_learning_workspace asks for the admin user, and
  # Azure ML enables it on registries it creates itself; image builds and pulls by the training
  # cluster use it.
  admin_enabled = true
  tags          = local.tags
}

resource "azurerm_machine_learning_workspace" "main" {
  name                    = local.names.workspace
  location                = azurerm_resource_group.ml.location
  resource_group_name     = azurerm_resource_group.ml.name
  application_insights_id = azurerm_application_insights.main.id
  key_vault_id            = azurerm_key_vault.main.id
  storage_account_id      = azurerm_storage_account.main.id
  container_registry_id   = azurerm_container_registry.main.id
  friendly_name           = "MLOps ${var.prefix}"
  description             = "Azure ML workspace of the azure-mlops deployment ${var.prefix}."
  v1_legacy_mode_enabled  = false
  tags                    = local.tags

  identity {
    # System-assigned: attaching the AKS cluster then needs no role for it on the cluster (Microsoft
    # documents Reader, Kubernetes Extension Contributor and AKS Cluster Admin for user-assigned
    # workspace identities only; see azureml_kubernetes.tf).
    type = "SystemAssigned"
  }
}

# Training cluster: scales to zero when idle, low-priority nodes by default.
resource "azurerm_machine_learning_compute_cluster" "training" {
  name                          = var.training_compute_name
  location                      = azurerm_machine_learning_workspace.main.location
  machine_learning_workspace_id = azurerm_machine_learning_workspace.main.id
  vm_size                       = var.training_vm_size
  vm_priority                   = var.training_low_priority ? "LowPriority" : "Dedicated"
  description                   = "Training jobs of the azure-mlops pipeline."
  ssh_public_access_enabled     = false
  # Not the deployment tag: azurerm made this resource's tags ForceNew (hashicorp/terraform-provider-azurerm
  # issue 30543, lifted only by PR 29878, in a release newer than our 4.55 floor), so adding the tag to an
  # existing deployment would replace the cluster. The CLI reads the tag on the resource groups only.
  tags = { for k, v in local.tags : k => v if k != "azure-mlops-deployment" }

  scale_settings {
    min_node_count                       = 0
    max_node_count                       = var.training_max_nodes
    scale_down_nodes_after_idle_duration = "PT5M" # ISO 8601
  }

  identity {
    type = "SystemAssigned"
  }
}
