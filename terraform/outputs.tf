# Outputs the CLI reads with `terraform output -json` (DevOps steps and doctor). None is sensitive.
# terraform/README.md documents each; test/fixtures/terraform/outputs.tf declares the same names.
# Outputs of the host the agents do not have (agents_host) are empty ("" or []) rather than null:
# terraform leaves null outputs out of `terraform output -json`, and the CLI reads every name.

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
  description = "Resource group of the agent VM, or of the Managed DevOps Pool with its Dev Center (rg-{prefix}-devops)."
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
  description = "VNET of the AKS cluster and the agents (in the ML resource group)."
  value       = azurerm_virtual_network.main.name
}

output "agents_host" {
  description = "Where the agents run: \"vm\" (the agent VM, registered by the CLI through a Run Command) or \"managed-pool\" (a Managed DevOps Pool: no VM, no registration step)."
  value       = var.agents_host
}

output "managed_pool_name" {
  description = "Name of the Managed DevOps Pool, which is also the name of the Azure DevOps agent pool the service creates for it (mdp-{prefix}); empty with agents_host = \"vm\"."
  value       = local.managed_pool ? azapi_resource.managed_pool[0].name : ""
}

output "managed_pool_id" {
  description = "Resource id of the Managed DevOps Pool; empty with agents_host = \"vm\"."
  value       = local.managed_pool ? azapi_resource.managed_pool[0].id : ""
}

output "agent_vm_name" {
  description = "Name of the agent VM; empty with a managed pool."
  value       = local.agents_on_vm ? azurerm_linux_virtual_machine.agents[0].name : ""
}

output "agent_vm_id" {
  description = "Resource id of the agent VM (where the CLI creates the Run Command that registers the agents); empty with a managed pool."
  value       = local.agents_on_vm ? azurerm_linux_virtual_machine.agents[0].id : ""
}

output "agent_register_script" {
  description = "Absolute path, on the agent VM, of the root-only script that registers the agents; it takes a Microsoft Entra access token or a PAT from the environment variable AZP_TOKEN. Empty with a managed pool."
  value       = local.agents_on_vm ? module.agent_bootstrap[0].register_script_path : ""
}

output "agent_name_prefix" {
  description = "Prefix of the agent names: the agents are {agent_name_prefix}-1 .. -{num_agents} (the VM name); empty with a managed pool."
  value       = local.agents_on_vm ? local.names.agent_vm : ""
}

output "agent_vm_private_ip" {
  description = "Private IP of the agent VM in the agents subnet; empty with a managed pool."
  value       = local.agents_on_vm ? azurerm_linux_virtual_machine.agents[0].private_ip_address : ""
}

output "agent_vm_public_ip" {
  description = "Public IP of the agent VM; empty when agent_public_ip_enabled is false (the default), and with a managed pool."
  value       = local.agents_on_vm && var.agent_public_ip_enabled ? azurerm_public_ip.agents[0].ip_address : ""
}

output "agent_names" {
  description = "Names the agents register with in the pool: {agent_vm_name}-1 .. -{num_agents}; empty with a managed pool (its agents are named by the service)."
  value       = local.agents_on_vm ? module.agent_bootstrap[0].agent_names : []
}

output "num_agents" {
  description = "Number of agents installed on the VM, or the managed pool's maximum concurrency."
  value       = var.num_agents
}

output "devops_pool" {
  description = "Azure DevOps agent pool the pipeline runs on: devops_pool, which the VM's agents join, or the pool the service created for the managed pool (managed_pool_name)."
  value       = local.managed_pool ? azapi_resource.managed_pool[0].name : var.devops_pool
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
