# The AKS cluster Azure ML deploys online endpoints to.
#
# Identity: a user-assigned managed identity created here. Azure ML supports system- and
# user-assigned cluster identities but not service principals. User-assigned lets terraform grant
# the identity Network Contributor on the subnets *before* the cluster exists, so the cluster never
# starts without the rights it needs in a VNET it does not own (with a system-assigned identity the
# grant can only follow creation and races the first internal load balancer).

resource "azurerm_user_assigned_identity" "aks" {
  name                = local.names.aks_identity
  location            = azurerm_resource_group.ml.location
  resource_group_name = azurerm_resource_group.ml.name
  tags                = local.tags
}

# The cluster identity manages the node subnet (Azure CNI) and creates the inference router's
# internal load balancer frontend in the ILB subnet: Network Contributor on each subnet it uses,
# scoped to the subnet, not the VNET.
resource "azurerm_role_assignment" "aks_subnet_network_contributor" {
  for_each = merge(
    { aks = azurerm_subnet.aks.id },
    local.ilb_in_dedicated_subnet ? { ilb = azurerm_subnet.ilb[0].id } : {},
  )

  scope                = each.value
  role_definition_name = "Network Contributor"
  principal_id         = azurerm_user_assigned_identity.aks.principal_id
  principal_type       = "ServicePrincipal"
  description          = "AKS ${local.names.aks}: nodes and internal load balancers in ${each.key} subnet"
}

resource "azurerm_kubernetes_cluster" "main" {
  name                = local.names.aks
  location            = azurerm_resource_group.ml.location
  resource_group_name = azurerm_resource_group.ml.name
  dns_prefix          = local.names.aks
  kubernetes_version  = var.aks_kubernetes_version
  sku_tier            = "Free"
  # Azure ML needs local accounts (its extension and attach use the cluster admin credential).
  local_account_disabled            = false
  role_based_access_control_enabled = true
  # The optional dedicated ILB subnet is set through `az aks command invoke`'s API (run command).
  run_command_enabled = true
  tags                = local.tags

  default_node_pool {
    name                        = "system"
    node_count                  = var.aks_node_count
    vm_size                     = var.aks_node_vm_size
    vnet_subnet_id              = azurerm_subnet.aks.id
    temporary_name_for_rotation = "systemtmp"
    os_sku                      = "Ubuntu"
    tags                        = local.tags

    upgrade_settings {
      max_surge = "10%"
    }
  }

  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.aks.id]
  }

  # Azure CNI Overlay: nodes get VNET addresses from the AKS subnet, pods an overlay range that
  # takes no VNET addresses. Kubenet, the seed's choice, is being retired by AKS; plain Azure CNI
  # would take a VNET address per pod and need a much larger subnet.
  network_profile {
    network_plugin      = "azure"
    network_plugin_mode = "overlay"
    pod_cidr            = var.aks_pod_cidr
    service_cidr        = var.aks_service_cidr
    dns_service_ip      = var.aks_dns_service_ip
    load_balancer_sku   = "standard"
    outbound_type       = "loadBalancer"
  }

  # Container Insights to the shared Log Analytics workspace, with managed-identity auth; the data
  # collection rule below says what to collect.
  oms_agent {
    log_analytics_workspace_id      = azurerm_log_analytics_workspace.main.id
    msi_auth_for_monitoring_enabled = true
  }

  depends_on = [azurerm_role_assignment.aks_subnet_network_contributor]
}

resource "azurerm_monitor_data_collection_rule" "container_insights" {
  name                = local.names.dcr
  location            = azurerm_resource_group.ml.location
  resource_group_name = azurerm_resource_group.ml.name
  kind                = "Linux"
  description         = "Container Insights of ${local.names.aks}"
  tags                = local.tags

  destinations {
    log_analytics {
      name                  = "ciworkspace"
      workspace_resource_id = azurerm_log_analytics_workspace.main.id
    }
  }

  data_flow {
    streams      = ["Microsoft-ContainerInsights-Group-Default"]
    destinations = ["ciworkspace"]
  }

  data_sources {
    extension {
      name           = "ContainerInsightsExtension"
      extension_name = "ContainerInsights"
      streams        = ["Microsoft-ContainerInsights-Group-Default"]
      extension_json = jsonencode({
        dataCollectionSettings = {
          interval               = "1m"
          namespaceFilteringMode = "Off"
          enableContainerLogV2   = true
        }
      })
    }
  }
}

resource "azurerm_monitor_data_collection_rule_association" "container_insights" {
  name                    = "ContainerInsightsExtension"
  target_resource_id      = azurerm_kubernetes_cluster.main.id
  data_collection_rule_id = azurerm_monitor_data_collection_rule.container_insights.id
  description             = "Container Insights of ${local.names.aks}"
}

# Nodes pull the deployment images from the workspace's registry.
resource "azurerm_role_assignment" "aks_kubelet_acr_pull" {
  scope                = azurerm_container_registry.main.id
  role_definition_name = "AcrPull"
  principal_id         = azurerm_kubernetes_cluster.main.kubelet_identity[0].object_id
  principal_type       = "ServicePrincipal"
  description          = "AKS ${local.names.aks} nodes pull model images"
}
