resource "azurerm_resource_group" "ml" {
  name     = local.names.ml_resource_group
  location = var.location
  tags     = local.tags
}

# One VNET for the AKS nodes, the inference router's internal load balancer and the agents (the agent
# VM, or the Managed DevOps Pool's agents in their delegated subnet, managed_devops_pool.tf), so the
# agents reach the scoring endpoint on its private IP (the pipeline's smoke test does).
resource "azurerm_virtual_network" "main" {
  name                = local.names.vnet
  location            = azurerm_resource_group.ml.location
  resource_group_name = azurerm_resource_group.ml.name
  address_space       = var.vnet_address_space
  tags                = local.tags
}

resource "azurerm_subnet" "aks" {
  name                 = local.subnet_names.aks
  resource_group_name  = azurerm_resource_group.ml.name
  virtual_network_name = azurerm_virtual_network.main.name
  address_prefixes     = [var.aks_subnet_address_prefix]
}

# The agent VM's subnet, with agents_host = "vm" only.
resource "azurerm_subnet" "agents" {
  count = local.agents_on_vm ? 1 : 0

  name                 = local.subnet_names.agents
  resource_group_name  = azurerm_resource_group.ml.name
  virtual_network_name = azurerm_virtual_network.main.name
  address_prefixes     = [var.agents_subnet_address_prefix]
  # Outbound goes through the NAT gateway below, never through Azure's retired implicit
  # "default outbound access".
  default_outbound_access_enabled = false
}

resource "azurerm_subnet" "ilb" {
  count                = local.ilb_in_dedicated_subnet ? 1 : 0
  name                 = local.subnet_names.ilb
  resource_group_name  = azurerm_resource_group.ml.name
  virtual_network_name = azurerm_virtual_network.main.name
  address_prefixes     = [var.ilb_subnet_address_prefix]
}

locals {
  ilb_subnet = local.ilb_in_dedicated_subnet ? azurerm_subnet.ilb[0] : azurerm_subnet.aks
}

# Explicit outbound for the agents' subnet, whichever host the agents have (snet-agents of the VM, or
# the managed pool's snet-mdp, associated in managed_devops_pool.tf): the agents only make outbound
# HTTPS connections (Azure DevOps, package repositories, Azure APIs), so they need no public IP of
# their own.
resource "azurerm_public_ip" "nat" {
  name                = local.names.nat_public_ip
  location            = azurerm_resource_group.devops.location
  resource_group_name = azurerm_resource_group.devops.name
  allocation_method   = "Static"
  sku                 = "Standard"
  tags                = local.tags
}

resource "azurerm_nat_gateway" "agents" {
  name                = local.names.nat_gateway
  location            = azurerm_resource_group.devops.location
  resource_group_name = azurerm_resource_group.devops.name
  sku_name            = "Standard"
  tags                = local.tags
}

resource "azurerm_nat_gateway_public_ip_association" "agents" {
  nat_gateway_id       = azurerm_nat_gateway.agents.id
  public_ip_address_id = azurerm_public_ip.nat.id
}

resource "azurerm_subnet_nat_gateway_association" "agents" {
  count = local.agents_on_vm ? 1 : 0

  subnet_id      = azurerm_subnet.agents[0].id
  nat_gateway_id = azurerm_nat_gateway.agents.id
}

# Deployments from before agents_host had these without count.
moved {
  from = azurerm_subnet.agents
  to   = azurerm_subnet.agents[0]
}

moved {
  from = azurerm_subnet_nat_gateway_association.agents
  to   = azurerm_subnet_nat_gateway_association.agents[0]
}
