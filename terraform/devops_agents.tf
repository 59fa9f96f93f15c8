# The self-hosted Azure Pipelines agents: one Ubuntu LTS VM in the agents subnet of the VNET, so the
# pipeline reaches the scoring endpoint on the internal load balancer. SSH key login only, no public
# IP unless asked for; outbound through the NAT gateway (network.tf).
#
# Only with agents_host = "vm" (the default): with "managed-pool" every resource of the agent VM has
# count = 0, and managed_devops_pool.tf creates the pool instead. The resource group stays in both
# cases (the managed pool and its Dev Center live in it too). The `moved` blocks keep deployments made
# before agents_host existed in place: their VM resources become index [0], with no change to plan.

resource "azurerm_resource_group" "devops" {
  name     = local.names.devops_resource_group
  location = var.location
  tags     = local.tags
}

locals {
  ubuntu_images = {
    "22.04" = { publisher = "Canonical", offer = "0001-com-ubuntu-server-jammy", sku = "22_04-lts-gen2" }
    "24.04" = { publisher = "Canonical", offer = "ubuntu-24_04-lts", sku = "server" }
  }
  agent_image = local.ubuntu_images[var.agent_ubuntu_version]
}

resource "azurerm_network_security_group" "agents" {
  count = local.agents_on_vm ? 1 : 0

  name                = local.names.agent_nsg
  location            = azurerm_resource_group.devops.location
  resource_group_name = azurerm_resource_group.devops.name
  tags                = local.tags
}

# Inbound SSH only from the given ranges, and only when the VM has a public IP. Azure's default rules
# already deny all other inbound traffic from outside the VNET and allow all outbound.
resource "azurerm_network_security_rule" "agents_ssh" {
  count = local.agents_on_vm && var.agent_public_ip_enabled && length(var.agent_ssh_allowed_cidrs) > 0 ? 1 : 0

  name                        = "allow-ssh-from-admins"
  resource_group_name         = azurerm_resource_group.devops.name
  network_security_group_name = azurerm_network_security_group.agents[0].name
  priority                    = 100
  direction                   = "Inbound"
  access                      = "Allow"
  protocol                    = "Tcp"
  source_port_range           = "*"
  source_address_prefixes     = var.agent_ssh_allowed_cidrs
  destination_port_range      = "22"
  destination_address_prefix  = "*"
}

resource "azurerm_public_ip" "agents" {
  count = local.agents_on_vm && var.agent_public_ip_enabled ? 1 : 0

  name                = local.names.agent_public_ip
  location            = azurerm_resource_group.devops.location
  resource_group_name = azurerm_resource_group.devops.name
  allocation_method   = "Static"
  sku                 = "Standard"
  tags                = local.tags
}

resource "azurerm_network_interface" "agents" {
  count = local.agents_on_vm ? 1 : 0

  name                = local.names.agent_nic
  location            = azurerm_resource_group.devops.location
  resource_group_name = azurerm_resource_group.devops.name
  tags                = local.tags

  ip_configuration {
    name                          = "internal"
    subnet_id                     = azurerm_subnet.agents[0].id
    private_ip_address_allocation = "Dynamic"
    public_ip_address_id          = var.agent_public_ip_enabled ? azurerm_public_ip.agents[0].id : null
  }
}

resource "azurerm_network_interface_security_group_association" "agents" {
  count = local.agents_on_vm ? 1 : 0

  network_interface_id      = azurerm_network_interface.agents[0].id
  network_security_group_id = azurerm_network_security_group.agents[0].id
}

resource "azurerm_linux_virtual_machine" "agents" {
  count = local.agents_on_vm ? 1 : 0

  name                            = local.names.agent_vm
  computer_name                   = local.names.agent_vm
  location                        = azurerm_resource_group.devops.location
  resource_group_name             = azurerm_resource_group.devops.name
  size                            = var.agent_vm_size
  admin_username                  = var.agent_admin_username
  disable_password_authentication = true
  network_interface_ids           = [azurerm_network_interface.agents[0].id]
  # Trusted launch (both images are generation 2).
  secure_boot_enabled = true
  vtpm_enabled        = true
  tags                = local.tags

  admin_ssh_key {
    username   = var.agent_admin_username
    public_key = trimspace(var.ssh_public_key)
  }

  os_disk {
    caching              = "ReadWrite"
    storage_account_type = "StandardSSD_LRS"
    disk_size_gb         = var.agent_os_disk_size_gb
  }

  source_image_reference {
    publisher = local.agent_image.publisher
    offer     = local.agent_image.offer
    sku       = local.agent_image.sku
    version   = "latest"
  }

  # Managed boot diagnostics: the serial log helps when the VM does not come up.
  boot_diagnostics {}

  depends_on = [azurerm_network_interface_security_group_association.agents]
}

module "agent_bootstrap" {
  source = "./modules/agent-bootstrap"
  count  = local.agents_on_vm ? 1 : 0

  devops_url        = var.devops_url
  devops_pat        = var.devops_pat
  devops_pool       = var.devops_pool
  num_agents        = var.num_agents
  agent_name_prefix = local.names.agent_vm
  agent_version     = var.agent_version
}

# The agents' install script runs through the CustomScript extension with the script in protected
# settings: encrypted for the VM, absent from the VM model, the portal and the extension's status.
# Changing num_agents, the pool, the URL, agent_version or devops_pat runs it again; it keeps the
# agents that are already set up.
#
# devops_pat null (the CLI): the script installs the agents without registering them and writes
# /opt/azagent/register-agents.sh (output agent_register_script), which the CLI runs through a Run
# Command with the PAT as a protected parameter. devops_pat set (standalone): the script registers the
# agents itself, and the PAT is in these protected settings, which terraform keeps in its state.
resource "azurerm_virtual_machine_extension" "agents_bootstrap" {
  count = local.agents_on_vm ? 1 : 0

  name                       = "install-azure-pipelines-agents"
  virtual_machine_id         = azurerm_linux_virtual_machine.agents[0].id
  publisher                  = "Microsoft.Azure.Extensions"
  type                       = "CustomScript"
  type_handler_version       = "2.1"
  auto_upgrade_minor_version = true
  protected_settings         = module.agent_bootstrap[0].protected_settings
  tags                       = local.tags

  timeouts {
    create = "60m"
    update = "60m"
  }

  # The script downloads packages and the agent: outbound must work first.
  depends_on = [
    azurerm_subnet_nat_gateway_association.agents,
    azurerm_nat_gateway_public_ip_association.agents,
  ]
}

# Deployments from before agents_host had these without count.
moved {
  from = azurerm_network_security_group.agents
  to   = azurerm_network_security_group.agents[0]
}

moved {
  from = azurerm_network_interface.agents
  to   = azurerm_network_interface.agents[0]
}

moved {
  from = azurerm_network_interface_security_group_association.agents
  to   = azurerm_network_interface_security_group_association.agents[0]
}

moved {
  from = azurerm_linux_virtual_machine.agents
  to   = azurerm_linux_virtual_machine.agents[0]
}

moved {
  from = module.agent_bootstrap
  to   = module.agent_bootstrap[0]
}

moved {
  from = azurerm_virtual_machine_extension.agents_bootstrap
  to   = azurerm_virtual_machine_extension.agents_bootstrap[0]
}
