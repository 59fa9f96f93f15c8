# Inputs of the bundled module. The CLI writes them to a tfvars JSON file and never sets devops_pat
# (it registers the agents itself after apply, see README). terraform/README.md lists them all;
# test/fixtures/terraform/variables.tf must declare the same ones (a test checks it).

# --- What a user must give ------------------------------------------------------------------------

variable "prefix" {
  description = "Short name put in every resource name (rg-{prefix}-ml, aml-{prefix}, aks{prefix}, st{prefix}, kv-{prefix}, acr{prefix}, ...). Lowercase letters and digits, 2 to 20 characters; storage account and container registry names derived from it must be globally unique."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]{2,20}$", var.prefix))
    error_message = "The prefix must be 2 to 20 lowercase letters or digits (no hyphens, no uppercase). The tightest names derived from it are the storage accounts st{prefix} and sttf{prefix} (the CLI's terraform state) and the key vault kv-{prefix}, all limited to 24 characters, and acr{prefix}, which needs at least 5."
  }
}

variable "location" {
  description = "Azure region for every resource, as its short name (for example westeurope, eastus2). `az account list-locations -o table` lists them."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{2,39}$", var.location))
    error_message = "The location must be an Azure region short name such as westeurope or eastus2: lowercase letters and digits, no spaces (not a display name like \"West Europe\")."
  }
}

variable "subscription_id" {
  description = "Azure subscription to deploy into (a GUID)."
  type        = string

  validation {
    condition     = can(regex("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", var.subscription_id))
    error_message = "The subscription_id must be a GUID such as 00000000-0000-0000-0000-000000000000 (`az account show --query id -o tsv`)."
  }
}

variable "devops_url" {
  description = "Azure DevOps organization URL the agents register with, such as https://dev.azure.com/myorg or https://myorg.visualstudio.com, or the collection URL of an Azure DevOps Server (https://tfs.contoso.com/tfs/DefaultCollection)."
  type        = string

  # Any https URL without credentials, query or fragment (and nothing the scripts on the VM would have
  # to quote); http only on the loopback (the CLI's tests use a fake Azure DevOps server there). For
  # dev.azure.com and *.visualstudio.com, the organization URL itself, not a project under it.
  validation {
    condition = (
      can(regex("^(https://[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*|http://(127\\.0\\.0\\.1|localhost))(:[0-9]{1,5})?(/[A-Za-z0-9._~%-]+)*/?$", var.devops_url)) &&
      (!can(regex("(?i)^https://(dev\\.azure\\.com|[^/]*\\.visualstudio\\.com)([:/]|$)", var.devops_url)) ||
      can(regex("(?i)^https://(dev\\.azure\\.com/[A-Za-z0-9][A-Za-z0-9-]{0,49}|[A-Za-z0-9][A-Za-z0-9-]{0,49}\\.visualstudio\\.com)/?$", var.devops_url)))
    )
    error_message = "The devops_url must be an Azure DevOps organization URL, https://dev.azure.com/{organization} or https://{organization}.visualstudio.com (without a project or further path), or the https collection URL of an Azure DevOps Server such as https://tfs.contoso.com/tfs/DefaultCollection. http:// only for 127.0.0.1 or localhost. No user name or password, query (?), fragment (#), quotes or spaces."
  }
}

variable "devops_pat" {
  description = "Azure DevOps personal access token with the Agent Pools (Read & manage) scope. null (the default, and what the azure-mlops CLI does): the agent VM gets the agents installed but not registered, and /opt/azagent/register-agents.sh registers them later (the CLI runs it through a Run Command with the PAT as a protected parameter). Set (standalone terraform use): the bootstrap registers them at once, but the PAT is then stored in the terraform state. Pass it as the environment variable TF_VAR_devops_pat, never on the command line or in a file."
  type        = string
  default     = null
  nullable    = true
  sensitive   = true
  # No validation block on purpose: when a validation fails, terraform prints the values of the
  # variables in the condition, sensitive or not.
}

variable "ssh_public_key" {
  description = "OpenSSH public key (the content of ~/.ssh/id_ed25519.pub or ~/.ssh/id_rsa.pub) installed for agent_admin_username on the agent VM. Password login is disabled."
  type        = string

  validation {
    condition     = can(regex("^(ssh-rsa|ssh-ed25519|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,3}( .*)?$", trimspace(var.ssh_public_key)))
    error_message = "The ssh_public_key must be one OpenSSH public key line starting with ssh-rsa, ssh-ed25519 or ecdsa-sha2-nistp256/384/521 (the .pub file, not the private key)."
  }
}

variable "pipeline_sp_object_id" {
  description = "Object id (not the application/client id) of an existing service principal for the Azure Pipelines service connection. Null (the default): the module creates a user-assigned managed identity (id-{prefix}-pipeline) instead. Either way the pipeline's identity gets its role on the workspace (see README)."
  type        = string
  default     = null

  validation {
    condition     = var.pipeline_sp_object_id == null || can(regex("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", var.pipeline_sp_object_id))
    error_message = "The pipeline_sp_object_id must be a GUID: the service principal's object id (`az ad sp show --id <appId> --query id -o tsv`), or null for a managed identity."
  }
}

# --- Azure DevOps agents --------------------------------------------------------------------------

variable "agents_host" {
  description = "Where the pipeline's agents run. \"vm\" (the default): num_agents self-hosted agents on one agent VM in snet-agents, registered in devops_pool after the apply (agent_* variables). \"managed-pool\": a Managed DevOps Pool (Microsoft.DevOpsInfrastructure/pools) with its Dev Center and Dev Center project, its agents injected into the delegated subnet snet-mdp; no agent VM and no registration step, the service creates the Azure DevOps agent pool mdp-{prefix} itself. It needs devops_project and devops_infrastructure_principal_id."
  type        = string
  default     = "vm"

  validation {
    condition     = contains(["vm", "managed-pool"], var.agents_host)
    error_message = "The agents_host must be \"vm\" (a self-hosted agent VM) or \"managed-pool\" (a Managed DevOps Pool)."
  }
}

variable "devops_pool" {
  description = "Name of the existing Azure DevOps agent pool the agents of the agent VM join (agents_host = \"vm\"). Unused with a managed pool, whose Azure DevOps pool is created by the service and named like the pool resource (output managed_pool_name)."
  type        = string
  default     = "pool001"

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]([A-Za-z0-9 ._-]{0,62}[A-Za-z0-9._-])?$", var.devops_pool))
    error_message = "The devops_pool must be 1 to 64 characters: letters, digits, spaces, dots, underscores and hyphens, not starting or ending with a space."
  }
}

variable "num_agents" {
  description = "Number of Azure Pipelines agents installed on the agent VM (one service, directory and work folder each); with agents_host = \"managed-pool\", the pool's maximum concurrency (agents at a time)."
  type        = number
  default     = 4

  validation {
    condition     = var.num_agents >= 1 && var.num_agents <= 16 && floor(var.num_agents) == var.num_agents
    error_message = "The num_agents must be a whole number from 1 to 16."
  }
}

variable "agent_vm_size" {
  description = "VM size of the agent VM. The agents mostly wait on Azure APIs; 2 vCPUs serve 4 agents."
  type        = string
  default     = "Standard_D2s_v5"

  validation {
    condition     = can(regex("^Standard_[A-Za-z0-9_]+$", var.agent_vm_size))
    error_message = "The agent_vm_size must be an Azure VM size name such as Standard_D2s_v5."
  }
}

variable "agent_admin_username" {
  description = "Administrator user of the agent VM (SSH key login only). The agents themselves run as a separate unprivileged user, azagent."
  type        = string
  default     = "azureuser"

  validation {
    condition     = can(regex("^[a-z_][a-z0-9_-]{0,31}$", var.agent_admin_username)) && !contains(["admin", "administrator", "root", "azagent", "guest", "test", "user"], var.agent_admin_username)
    error_message = "The agent_admin_username must be a Linux user name (lowercase letters, digits, _ and -, at most 32 characters) and not one Azure reserves (admin, administrator, root, guest, test, user) nor azagent (the agents' own user)."
  }
}

variable "agent_ubuntu_version" {
  description = "Ubuntu LTS release of the agent VM image: 22.04 or 24.04."
  type        = string
  default     = "24.04"

  validation {
    condition     = contains(["22.04", "24.04"], var.agent_ubuntu_version)
    error_message = "The agent_ubuntu_version must be 22.04 or 24.04."
  }
}

variable "agent_os_disk_size_gb" {
  description = "OS disk size of the agent VM in GB (the agents' work folders live on it)."
  type        = number
  default     = 64

  validation {
    condition     = var.agent_os_disk_size_gb >= 30 && var.agent_os_disk_size_gb <= 1024 && floor(var.agent_os_disk_size_gb) == var.agent_os_disk_size_gb
    error_message = "The agent_os_disk_size_gb must be a whole number from 30 to 1024."
  }
}

variable "agent_version" {
  description = "Azure Pipelines agent version the VM downloads and unpacks (https://download.agent.dev.azure.com/agent/{version}/vsts-agent-linux-x64-{version}.tar.gz). Agents not registered yet are moved to a newer version when the organization offers one at registration; registered agents update themselves."
  type        = string
  default     = "4.275.0"

  validation {
    condition     = can(regex("^[0-9]{1,4}\\.[0-9]{1,5}\\.[0-9]{1,5}$", var.agent_version))
    error_message = "The agent_version must be an agent version such as 4.275.0 (see https://github.com/microsoft/azure-pipelines-agent/releases)."
  }
}

variable "agent_public_ip_enabled" {
  description = "Give the agent VM a public IP. Off by default: the agents only make outbound connections (through a NAT gateway). Turn on only to SSH to the VM from outside the VNET, together with agent_ssh_allowed_cidrs."
  type        = bool
  default     = false
}

variable "agent_ssh_allowed_cidrs" {
  description = "Source address ranges allowed to reach the agent VM on port 22 when agent_public_ip_enabled is true. Empty: no inbound SSH rule."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.agent_ssh_allowed_cidrs : can(cidrhost(c, 0)) && c != "0.0.0.0/0"])
    error_message = "Each agent_ssh_allowed_cidrs entry must be an IPv4 CIDR range such as 203.0.113.7/32; 0.0.0.0/0 (the whole internet) is refused."
  }
}

# --- Managed DevOps Pool (agents_host = "managed-pool") -----------------------------------------

variable "devops_project" {
  description = "Azure DevOps project whose pipelines may use the Managed DevOps Pool (agents_host = \"managed-pool\", required there). Unused with agents_host = \"vm\"."
  type        = string
  default     = null

  # Azure DevOps project names (learn.microsoft.com/azure/devops/organizations/settings/naming-restrictions).
  validation {
    condition     = var.devops_project == null || (can(regex("^[^\\\\/:*?\"'<>;#$*{},+=\\[\\]|\\x00-\\x1f]{1,64}$", var.devops_project)) && !can(regex("^[_.\\s]|[.\\s]$", var.devops_project)))
    error_message = "The devops_project must be an Azure DevOps project name: 1 to 64 characters, none of \\ / : * ? \" ' < > ; # $ { } , + = [ ] |, not starting with _ or . and not ending with ., no leading or trailing spaces."
  }
}

variable "devops_infrastructure_principal_id" {
  description = "Object id, in this tenant, of Microsoft's DevOpsInfrastructure service principal (agents_host = \"managed-pool\", required there): it gets Reader and Network Contributor on the VNET to place the pool's agents in snet-mdp. az ad sp list --display-name DevOpsInfrastructure --query \"[?displayName=='DevOpsInfrastructure'].id\" -o tsv"
  type        = string
  default     = null

  validation {
    condition     = var.devops_infrastructure_principal_id == null || can(regex("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", var.devops_infrastructure_principal_id))
    error_message = "The devops_infrastructure_principal_id must be null or a GUID: the object id of the DevOpsInfrastructure service principal (az ad sp list --display-name DevOpsInfrastructure)."
  }
}

variable "managed_pool_vm_size" {
  description = "VM size of the Managed DevOps Pool's agents, one machine per job. Standard_D2ads_v5 (2 vCPUs) is the service's default size; the subscription's Managed DevOps Pools quota for its family must cover num_agents machines."
  type        = string
  default     = "Standard_D2ads_v5"

  validation {
    condition     = can(regex("^Standard_[A-Za-z0-9_]+$", var.managed_pool_vm_size))
    error_message = "The managed_pool_vm_size must be an Azure VM size name such as Standard_D2ads_v5."
  }
}

variable "managed_pool_image" {
  description = "Azure Pipelines image of the Managed DevOps Pool's agents (the images of the Microsoft-hosted agents, Azure CLI included), by its predefined alias: ubuntu-24.04 or ubuntu-22.04, optionally with /latest or /{version}."
  type        = string
  default     = "ubuntu-24.04/latest"

  validation {
    condition     = can(regex("^ubuntu-(22|24)\\.04(/(latest|[0-9]+(\\.[0-9]+)*))?$", var.managed_pool_image))
    error_message = "The managed_pool_image must be an Ubuntu Azure Pipelines image alias: ubuntu-24.04 or ubuntu-22.04, optionally followed by /latest or /{version} such as /20250427.1.0."
  }
}

# --- Network --------------------------------------------------------------------------------------

variable "vnet_address_space" {
  description = "Address space of the VNET holding the AKS, agents and (optional) internal load balancer subnets."
  type        = list(string)
  default     = ["10.10.0.0/16"]

  validation {
    condition     = length(var.vnet_address_space) > 0 && alltrue([for c in var.vnet_address_space : can(cidrhost(c, 0))])
    error_message = "The vnet_address_space must be a non-empty list of CIDR ranges such as 10.10.0.0/16."
  }
}

variable "aks_subnet_address_prefix" {
  description = "Address range of the AKS node subnet (inside vnet_address_space). With Azure CNI Overlay only nodes and internal load balancers take addresses here."
  type        = string
  default     = "10.10.0.0/22"

  validation {
    condition     = can(cidrhost(var.aks_subnet_address_prefix, 0))
    error_message = "The aks_subnet_address_prefix must be a CIDR range such as 10.10.0.0/22."
  }
}

variable "agents_subnet_address_prefix" {
  description = "Address range of the subnet of the DevOps agent VM (inside vnet_address_space)."
  type        = string
  default     = "10.10.8.0/24"

  validation {
    condition     = can(cidrhost(var.agents_subnet_address_prefix, 0))
    error_message = "The agents_subnet_address_prefix must be a CIDR range such as 10.10.8.0/24."
  }
}

variable "managed_pool_subnet_address_prefix" {
  description = "Address range of snet-mdp (inside vnet_address_space), the subnet delegated to the Managed DevOps Pool (agents_host = \"managed-pool\"): one address per agent plus the 5 Azure keeps. Unused with agents_host = \"vm\"."
  type        = string
  default     = "10.10.9.0/24"

  validation {
    condition     = can(cidrhost(var.managed_pool_subnet_address_prefix, 0))
    error_message = "The managed_pool_subnet_address_prefix must be a CIDR range such as 10.10.9.0/24."
  }
}

variable "ilb_subnet_address_prefix" {
  description = "Where the inference router's internal load balancer gets its private IP. null (default): in the AKS subnet. A CIDR range (inside vnet_address_space): in a dedicated subnet snet-ilb created with that range."
  type        = string
  default     = null

  validation {
    condition     = var.ilb_subnet_address_prefix == null || can(cidrhost(var.ilb_subnet_address_prefix, 0))
    error_message = "The ilb_subnet_address_prefix must be null (use the AKS subnet) or a CIDR range such as 10.10.12.0/24."
  }
}

variable "aks_service_cidr" {
  description = "Kubernetes service address range. Must not overlap the VNET or anything peered with it."
  type        = string
  default     = "10.11.0.0/16"

  validation {
    condition     = can(cidrhost(var.aks_service_cidr, 0))
    error_message = "The aks_service_cidr must be a CIDR range such as 10.11.0.0/16."
  }
}

variable "aks_dns_service_ip" {
  description = "IP address of the cluster DNS service, inside aks_service_cidr (not its first address)."
  type        = string
  default     = "10.11.0.10"

  validation {
    condition     = can(regex("^((25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])$", var.aks_dns_service_ip))
    error_message = "The aks_dns_service_ip must be an IPv4 address such as 10.11.0.10."
  }
}

variable "aks_pod_cidr" {
  description = "Pod address range of the Azure CNI Overlay network (not routed in the VNET, must not overlap it)."
  type        = string
  default     = "10.244.0.0/16"

  validation {
    condition     = can(cidrhost(var.aks_pod_cidr, 0))
    error_message = "The aks_pod_cidr must be a CIDR range such as 10.244.0.0/16."
  }
}

# --- AKS ------------------------------------------------------------------------------------------

variable "aks_node_count" {
  description = "Number of AKS nodes. With fewer than 3 the inference router runs one replica (inferenceRouterHA=False)."
  type        = number
  default     = 3

  validation {
    condition     = var.aks_node_count >= 1 && var.aks_node_count <= 100 && floor(var.aks_node_count) == var.aks_node_count
    error_message = "The aks_node_count must be a whole number from 1 to 100."
  }
}

variable "aks_node_vm_size" {
  description = "VM size of the AKS nodes. The default 3 x Standard_D4s_v5 gives the 12 vCPUs the seed sized for Azure ML."
  type        = string
  default     = "Standard_D4s_v5"

  validation {
    condition     = can(regex("^Standard_[A-Za-z0-9_]+$", var.aks_node_vm_size))
    error_message = "The aks_node_vm_size must be an Azure VM size name such as Standard_D4s_v5."
  }
}

variable "aks_kubernetes_version" {
  description = "Kubernetes version of the AKS cluster; null takes the region's default version."
  type        = string
  default     = null

  validation {
    condition     = var.aks_kubernetes_version == null || can(regex("^[0-9]+\\.[0-9]+(\\.[0-9]+)?$", var.aks_kubernetes_version))
    error_message = "The aks_kubernetes_version must be null or a version such as 1.33 or 1.33.2."
  }
}

# --- Azure ML -------------------------------------------------------------------------------------

variable "training_compute_name" {
  description = "Name of the Azure ML compute cluster for training jobs (Azure ML compute names: 2 to 16 characters)."
  type        = string
  default     = "cpu-cluster"

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9-]{1,15}$", var.training_compute_name))
    error_message = "The training_compute_name must be 2 to 16 characters: a letter, then letters, digits or hyphens."
  }
}

variable "training_vm_size" {
  description = "VM size of the training compute cluster nodes."
  type        = string
  default     = "Standard_DS3_v2"

  validation {
    condition     = can(regex("^Standard_[A-Za-z0-9_]+$", var.training_vm_size))
    error_message = "The training_vm_size must be an Azure VM size name such as Standard_DS3_v2."
  }
}

variable "training_max_nodes" {
  description = "Maximum node count of the training compute cluster (it scales down to 0 when idle)."
  type        = number
  default     = 4

  validation {
    condition     = var.training_max_nodes >= 1 && var.training_max_nodes <= 100 && floor(var.training_max_nodes) == var.training_max_nodes
    error_message = "The training_max_nodes must be a whole number from 1 to 100."
  }
}

variable "training_low_priority" {
  description = "Use low-priority (preemptible, much cheaper) VMs for the training cluster."
  type        = bool
  default     = true
}

variable "aks_compute_name" {
  description = "Name of the Kubernetes compute that attaches the AKS cluster to the workspace; online endpoints and deployments name it as their compute (Azure ML compute names: 2 to 16 characters)."
  type        = string
  default     = "aks-compute"

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9-]{1,15}$", var.aks_compute_name))
    error_message = "The aks_compute_name must be 2 to 16 characters: a letter, then letters, digits or hyphens."
  }
}

variable "container_registry_sku" {
  description = "SKU of the container registry the workspace builds its images into."
  type        = string
  default     = "Basic"

  validation {
    condition     = contains(["Basic", "Standard", "Premium"], var.container_registry_sku)
    error_message = "The container_registry_sku must be Basic, Standard or Premium."
  }
}

variable "log_retention_days" {
  description = "Retention of the Log Analytics workspace (Container Insights, Application Insights) in days."
  type        = number
  default     = 30

  validation {
    condition     = var.log_retention_days >= 30 && var.log_retention_days <= 730 && floor(var.log_retention_days) == var.log_retention_days
    error_message = "The log_retention_days must be a whole number from 30 to 730."
  }
}

variable "tags" {
  description = "Tags added to every resource (on top of managed-by = azure-mlops and mlops-prefix = {prefix})."
  type        = map(string)
  default     = {}
}

variable "deployment_id" {
  description = "Id of the azure-mlops deployment (a UUID) that owns these resources: set as the tag azure-mlops-deployment on every resource (the training cluster excepted: its tags are ForceNew in azurerm), the resource groups included, so that another azure-mlops state dir refuses to take the prefix over. The CLI always sets it; null (default, standalone use): no such tag."
  type        = string
  default     = null

  validation {
    condition     = var.deployment_id == null || can(regex("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", var.deployment_id))
    error_message = "The deployment_id must be null or a lowercase UUID such as 0b5c1f3e-8a2d-4c7b-9e61-2f4d8a0c6b1e."
  }
}
