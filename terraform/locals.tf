# Resource names. The seed's names are kept where the seed had them (rg-{prefix}-ml,
# rg-{prefix}-devops, aml-{prefix}, aks{prefix}, st{prefix}, kv-{prefix}, acr{prefix}); the pipeline's
# variable group relies on RESOURCE_GROUP = rg-{prefix}-ml and WORKSPACE_NAME = aml-{prefix}.
# Longest values for a 20-character prefix, against the Azure limit, are noted beside each.

data "azurerm_client_config" "current" {}

locals {
  names = {
    ml_resource_group     = "rg-${var.prefix}-ml"                   # 26 / 90
    devops_resource_group = "rg-${var.prefix}-devops"               # 30 / 90
    workspace             = "aml-${var.prefix}"                     # 24 / 33
    aks                   = "aks${var.prefix}"                      # 23 / 63 (also the DNS prefix: 54)
    storage_account       = "st${var.prefix}"                       # 22 / 24, lowercase letters and digits
    key_vault             = "kv-${var.prefix}"                      # 23 / 24
    container_registry    = "acr${var.prefix}"                      # 23 / 50, at least 5
    log_analytics         = "log-${var.prefix}"                     # 24 / 63
    application_insights  = "appi-${var.prefix}"                    # 25 / 255
    vnet                  = "vnet-${var.prefix}"                    # 25 / 64
    aks_identity          = "id-${var.prefix}-aks"                  # 27 / 128
    pipeline_identity     = "id-${var.prefix}-pipeline"             # 32 / 128
    agent_vm              = "vm-${var.prefix}-agents"               # 30 / 64 (Linux host name)
    agent_nic             = "nic-${var.prefix}-agents"              # 31 / 80
    agent_nsg             = "nsg-${var.prefix}-agents"              # 31 / 80
    agent_public_ip       = "pip-${var.prefix}-agents"              # 31 / 80
    nat_gateway           = "ng-${var.prefix}-agents"               # 30 / 80
    nat_public_ip         = "pip-${var.prefix}-natgw"               # 30 / 80
    managed_pool          = "mdp-${var.prefix}"                     # 24 / 44, unique in Azure (also the Azure DevOps pool's name)
    dev_center            = "dc-${var.prefix}"                      # 23 / 26
    dev_center_project    = "dcp-${var.prefix}"                     # 24 / 63
    dcr                   = "MSCI-${var.location}-aks${var.prefix}" # Container Insights' own naming, <= 64
  }

  subnet_names = {
    aks          = "snet-aks"
    agents       = "snet-agents"
    ilb          = "snet-ilb"
    managed_pool = "snet-mdp"
  }

  # Where the agents run (variable agents_host): the agent VM (devops_agents.tf) or a Managed DevOps
  # Pool (managed_devops_pool.tf). Exactly one of the two is true.
  agents_on_vm = var.agents_host == "vm"
  managed_pool = var.agents_host == "managed-pool"

  # azure-mlops-deployment (deployment_id): the CLI's "one deployment per prefix" reads it on the
  # resource groups before anything is created; set last, so that var.tags cannot replace it.
  tags = merge(
    { "managed-by" = "azure-mlops", "mlops-prefix" = var.prefix },
    var.tags,
    var.deployment_id == null ? {} : { "azure-mlops-deployment" = var.deployment_id },
  )

  # The inference router's internal load balancer goes into the AKS subnet unless a dedicated
  # subnet is asked for (see azureml_kubernetes.tf).
  ilb_in_dedicated_subnet = var.ilb_subnet_address_prefix != null
}
