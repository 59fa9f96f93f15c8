# The agents as a Managed DevOps Pool (agents_host = "managed-pool"): Azure creates an agent for each
# job on its own scale set, registers it in an Azure DevOps agent pool that the service itself creates
# (named like the pool resource, mdp-{prefix}), and discards it after the job. No agent VM, no
# bootstrap, no registration step, no token on any machine. Everything here has count = 0 (for_each
# empty) with agents_host = "vm".
#
# No azurerm resource in the 4.55 schema snapshot this module is validated against manages
# Microsoft.DevOpsInfrastructure/pools, so all three resources go through azapi, with stable API versions.
# Sources:
# - Resource and body: "Microsoft.DevOpsInfrastructure pools 2025-01-21" (learn.microsoft.com/azure/
#   templates/microsoft.devopsinfrastructure/2025-01-21/pools) and its REST specification
#   (Azure/azure-rest-api-specs specification/devopsinfrastructure/resource-manager/
#   Microsoft.DevOpsInfrastructure/DevOpsInfrastructure/stable/2025-01-21/devopsinfrastructure.json).
#   test/terraform/schema.test.ts checks the body against the property names of that version.
# - Prerequisites (learn.microsoft.com/azure/devops/managed-devops-pools/prerequisites): a Dev Center
#   and a Dev Center project; the resource providers Microsoft.DevOpsInfrastructure and
#   Microsoft.DevCenter (registered by the provider block, versions.tf); an Azure DevOps organization
#   connected to the subscription's Microsoft Entra tenant; whoever applies this is made an
#   administrator of the created Azure DevOps pool, so needs to be allowed to create agent pools
#   (Organization-level Agent pools administrator or Project Collection Administrator).
# - Networking (learn.microsoft.com/azure/devops/managed-devops-pools/configure-networking): the
#   agents join a subnet delegated to Microsoft.DevOpsInfrastructure/pools, for this pool alone (one
#   pool per subnet), in a VNET in the pool's region, and the DevOpsInfrastructure service principal
#   needs Reader and Network Contributor on the VNET.

# --- The delegated subnet ---------------------------------------------------------------------------

# A subnet of the deployment's VNET, so that the agents reach the scoring endpoint on the internal load
# balancer as the agent VM does. Big enough for maximumConcurrency agents plus the 5 addresses Azure
# keeps in every subnet (configure-networking).
resource "azurerm_subnet" "managed_pool" {
  count = local.managed_pool ? 1 : 0

  name                 = local.subnet_names.managed_pool
  resource_group_name  = azurerm_resource_group.ml.name
  virtual_network_name = azurerm_virtual_network.main.name
  address_prefixes     = [var.managed_pool_subnet_address_prefix]
  # Outbound through the NAT gateway (network.tf), as for the agent VM: the agents must reach Azure
  # DevOps and the service's endpoints (configure-networking, "Restricting outbound connectivity").
  default_outbound_access_enabled = false

  delegation {
    name = "Microsoft.DevOpsInfrastructure.pools"

    service_delegation {
      name = "Microsoft.DevOpsInfrastructure/pools"
    }
  }
}

resource "azurerm_subnet_nat_gateway_association" "managed_pool" {
  count = local.managed_pool ? 1 : 0

  subnet_id      = azurerm_subnet.managed_pool[0].id
  nat_gateway_id = azurerm_nat_gateway.agents.id
}

# Reader and Network Contributor on the VNET for Microsoft's DevOpsInfrastructure service principal,
# which joins the pool's machines to the subnet (configure-networking, "Grant Reader and Network
# Contributor access to DevOpsInfrastructure service principal"). Its object id differs per tenant and
# this module has no azuread provider to look it up, so it is an input (variable
# devops_infrastructure_principal_id; terraform/README.md says how to find it).
resource "azurerm_role_assignment" "devops_infrastructure_vnet" {
  for_each = local.managed_pool ? toset(["Reader", "Network Contributor"]) : toset([])

  scope                = azurerm_virtual_network.main.id
  role_definition_name = each.key
  principal_id         = var.devops_infrastructure_principal_id
  principal_type       = "ServicePrincipal"

  lifecycle {
    precondition {
      condition     = var.devops_infrastructure_principal_id != null
      error_message = "agents_host = \"managed-pool\" needs devops_infrastructure_principal_id: the object id, in this tenant, of Microsoft's DevOpsInfrastructure service principal, which needs Reader and Network Contributor on the VNET. Find it with: az ad sp list --display-name DevOpsInfrastructure --query \"[?displayName=='DevOpsInfrastructure'].id\" -o tsv"
    }
  }
}

# --- Dev Center and Dev Center project --------------------------------------------------------------

# What a pool belongs to (devCenterProjectResourceId). Neither needs any property for that
# (Microsoft.DevCenter/devcenters and /projects, stable API 2025-02-01: Azure/azure-rest-api-specs
# specification/devcenter/resource-manager/Microsoft.DevCenter/stable/2025-02-01/devcenter.json; a
# project names its Dev Center in devCenterId).
resource "azapi_resource" "dev_center" {
  count = local.managed_pool ? 1 : 0

  type      = "Microsoft.DevCenter/devcenters@2025-02-01"
  name      = local.names.dev_center
  parent_id = azurerm_resource_group.devops.id
  location  = azurerm_resource_group.devops.location
  tags      = local.tags
  body = {
    properties = {}
  }
}

resource "azapi_resource" "dev_center_project" {
  count = local.managed_pool ? 1 : 0

  type      = "Microsoft.DevCenter/projects@2025-02-01"
  name      = local.names.dev_center_project
  parent_id = azurerm_resource_group.devops.id
  location  = azurerm_resource_group.devops.location
  tags      = local.tags
  body = {
    properties = {
      devCenterId = azapi_resource.dev_center[0].id
    }
  }
}

# --- The pool ---------------------------------------------------------------------------------------

resource "azapi_resource" "managed_pool" {
  count = local.managed_pool ? 1 : 0

  type      = "Microsoft.DevOpsInfrastructure/pools@2025-01-21"
  name      = local.names.managed_pool
  parent_id = azurerm_resource_group.devops.id
  location  = azurerm_resource_group.devops.location
  tags      = local.tags

  body = {
    properties = {
      devCenterProjectResourceId = azapi_resource.dev_center_project[0].id
      # At most this many agents at a time (1 to 10000).
      maximumConcurrency = var.num_agents

      # One organization, one project; parallelism must add up to maximumConcurrency ("configure
      # security": the sum of the organizations' parallelism must match the maximum agents).
      # permissionProfile (settable at creation only): Inherit makes the creator an administrator of
      # the Azure DevOps pool and keeps inheritance on, so the organization's and project's
      # administrators manage it too; CreatorOnly, the service's default, would turn inheritance off.
      organizationProfile = {
        kind = "AzureDevOps"
        organizations = [{
          url         = trimsuffix(var.devops_url, "/")
          projects    = [var.devops_project]
          parallelism = var.num_agents
        }]
        permissionProfile = {
          kind = "Inherit"
        }
      }

      # A fresh machine for every job. No standby agents: configure-scaling says to omit
      # resourcePredictionsProfile (and so resourcePredictions) to turn standby agents off, the
      # default "Off" mode; in 2025-01-21 its kinds are only Manual and Automatic. Jobs wait for a
      # machine to start (the docs say up to 15 minutes); no machine runs between jobs.
      agentProfile = {
        kind = "Stateless"
      }

      # Scale set machines of one size from one of the Azure Pipelines images (the images of the
      # Microsoft-hosted agents, with the Azure CLI; configure-images, "Azure Pipelines image
      # predefined aliases": ubuntu-24.04, ubuntu-22.04, optionally /latest or /{version}), in the
      # delegated subnet.
      fabricProfile = {
        kind = "Vmss"
        sku = {
          name = var.managed_pool_vm_size
        }
        images = [{
          wellKnownImageName = var.managed_pool_image
        }]
        networkProfile = {
          subnetId = azurerm_subnet.managed_pool[0].id
        }
      }
    }
  }

  timeouts {
    create = "60m"
    update = "60m"
    delete = "60m"
  }

  lifecycle {
    precondition {
      condition     = var.devops_project != null
      error_message = "agents_host = \"managed-pool\" needs devops_project: the Azure DevOps project the pool serves (its pipelines may use the pool)."
    }
  }

  # The service checks its access to the subnet and the subnet's outbound path when it creates the pool.
  depends_on = [
    azurerm_role_assignment.devops_infrastructure_vnet,
    azurerm_subnet_nat_gateway_association.managed_pool,
  ]
}
