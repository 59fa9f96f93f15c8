# Outputs the CLI reads with `terraform output -json` (DevOps steps and doctor). None is sensitive.
# terraform/README.md documents each; test/fixtures/terraform/outputs.tf declares the same names.

output "subscription_id" {
  description = "Subscription the resources are in."
  value       = var.subscription_id
}

output "tenant_id" {
  description = "Microsoft Entra tenant of the subscription (for the service connection)."
  value       = data.azurerm_client_config.current.tenant_id
}

output "location" {
  description = "Azure region of every resource."
  value       = var.location
}

output "ml_resource_group_name" {
  description = "Resource group of the ML resources: the variable group's RESOURCE_GROUP (rg-{prefix}-ml)."
  value       = azurerm_resource_group.ml.name
}

output "devops_resource_group_name" {
  description = "Resource group of the agent VM (rg-{prefix}-devops)."
  value       = azurerm_resource_group.devops.name
}

output "workspace_name" {
  description = "Azure ML workspace: the variable group's WORKSPACE_NAME (aml-{prefix})."
  value       = azurerm_machine_learning_workspace.main.name
}

output "workspace_id" {
  description = "Resource id of the Azure ML workspace (scope of the service connection and of the pipeline's role)."
  value       = azurerm_machine_learning_workspace.main.id
}

output "workspace_location" {
  description = "Region of the Azure ML workspace (mlWorkspaceLocation of the service connection)."
  value       = azurerm_machine_learning_workspace.main.location
}

output "training_compute_name" {
  description = "Azure ML compute cluster for training jobs."
  value       = azurerm_machine_learning_compute_cluster.training.name
}

output "aks_name" {
  description = "AKS cluster name (aks{prefix})."
  value       = azurerm_kubernetes_cluster.main.name
}

output "aks_id" {
  description = "Resource id of the AKS cluster."
  value       = azurerm_kubernetes_cluster.main.id
}

output "aks_compute_name" {
  description = "Kubernetes compute (the attached AKS cluster) that online endpoints deploy to."
  value       = azapi_resource.aks_compute.name
}

output "ilb_subnet_name" {
  description = "Subnet where the inference router's internal load balancer takes its private IP."
  value       = local.ilb_subnet.name
}

output "ilb_subnet_id" {
  description = "Resource id of that subnet."
  value       = local.ilb_subnet.id
}

output "vnet_name" {
  description = "VNET of the AKS cluster and the agent VM (in the ML resource group)."
  value       = azurerm_virtual_network.main.name
}

output "agent_vm_name" {
  description = "Name of the agent VM."
  value       = azurerm_linux_virtual_machine.agents.name
}

output "agent_vm_id" {
  description = "Resource id of the agent VM (where the CLI creates the Run Command that registers the agents)."
  value       = azurerm_linux_virtual_machine.agents.id
}

output "agent_register_script" {
  description = "Absolute path, on the agent VM, of the root-only script that registers the agents; it takes a Microsoft Entra access token or a PAT from the environment variable AZP_TOKEN."
  value       = module.agent_bootstrap.register_script_path
}

output "agent_name_prefix" {
  description = "Prefix of the agent names: the agents are {agent_name_prefix}-1 .. -{num_agents} (the VM name)."
  value       = local.names.agent_vm
}

output "agent_vm_private_ip" {
  description = "Private IP of the agent VM in the agents subnet."
  value       = azurerm_linux_virtual_machine.agents.private_ip_address
}

output "agent_vm_public_ip" {
  description = "Public IP of the agent VM; empty when agent_public_ip_enabled is false (the default). Empty rather than null: terraform leaves null outputs out of `terraform output -json`."
  value       = var.agent_public_ip_enabled ? azurerm_public_ip.agents[0].ip_address : ""
}

output "agent_names" {
  description = "Names the agents register with in the pool: {agent_vm_name}-1 .. -{num_agents}."
  value       = module.agent_bootstrap.agent_names
}

output "num_agents" {
  description = "Number of agents installed on the VM."
  value       = var.num_agents
}

output "devops_pool" {
  description = "Agent pool the agents join."
  value       = var.devops_pool
}

output "key_vault_name" {
  description = "Key vault of the workspace (kv-{prefix})."
  value       = azurerm_key_vault.main.name
}

output "storage_account_name" {
  description = "Storage account of the workspace (st{prefix})."
  value       = azurerm_storage_account.main.name
}

output "container_registry_name" {
  description = "Container registry of the workspace (acr{prefix})."
  value       = azurerm_container_registry.main.name
}

output "application_insights_name" {
  description = "Application Insights of the workspace."
  value       = azurerm_application_insights.main.name
}

output "log_analytics_workspace_name" {
  description = "Log Analytics workspace behind Application Insights and Container Insights."
  value       = azurerm_log_analytics_workspace.main.name
}

output "pipeline_identity_id" {
  description = "Resource id of the pipeline's user-assigned managed identity (parent of the service connection's federated credential); empty when pipeline_sp_object_id names a service principal. Empty rather than null: terraform leaves null outputs out of `terraform output -json`."
  value       = var.pipeline_sp_object_id == null ? azurerm_user_assigned_identity.pipeline[0].id : ""
}

output "pipeline_identity_client_id" {
  description = "Client id of the pipeline's managed identity (the service connection's serviceprincipalid); empty when pipeline_sp_object_id names a service principal."
  value       = var.pipeline_sp_object_id == null ? azurerm_user_assigned_identity.pipeline[0].client_id : ""
}

output "pipeline_principal_id" {
  description = "Object (principal) id of the pipeline's identity, managed identity or service principal: the principal of its AzureML Data Scientist role on the workspace."
  value       = local.pipeline_principal_id
}
