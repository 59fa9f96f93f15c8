variable "devops_url" {
  description = "Azure DevOps organization or collection URL, such as https://dev.azure.com/myorg (https; http only for 127.0.0.1 or localhost)."
  type        = string

  # The URL is put between single quotes in the rendered scripts: no quotes, spaces, credentials,
  # query or fragment. The root module checks the Azure DevOps specific forms.
  validation {
    condition     = can(regex("^(https://[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*|http://(127\\.0\\.0\\.1|localhost))(:[0-9]{1,5})?(/[A-Za-z0-9._~%-]+)*/?$", var.devops_url))
    error_message = "The devops_url must be an https URL (http only for 127.0.0.1 or localhost) without credentials, query, fragment, quotes or spaces."
  }
}

variable "devops_pat" {
  description = "Azure DevOps personal access token (Agent Pools: Read & manage). null: the script installs the agents without registering them, and /opt/azagent/register-agents.sh registers them later. Set: the script registers them at once (the PAT is then in the protected settings, and so in the terraform state)."
  type        = string
  default     = null
  nullable    = true
  sensitive   = true
}

variable "devops_pool" {
  description = "Agent pool the agents join."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]([A-Za-z0-9 ._-]{0,62}[A-Za-z0-9._-])?$", var.devops_pool))
    error_message = "The devops_pool must be 1 to 64 letters, digits, spaces, dots, underscores or hyphens."
  }
}

variable "num_agents" {
  description = "Number of agents to install on the VM."
  type        = number

  validation {
    condition     = var.num_agents >= 1 && var.num_agents <= 16 && floor(var.num_agents) == var.num_agents
    error_message = "The num_agents must be a whole number from 1 to 16."
  }
}

variable "agent_name_prefix" {
  description = "Agents are named {agent_name_prefix}-1 .. {agent_name_prefix}-{num_agents} in the pool (the VM name)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9-]{0,59}$", var.agent_name_prefix))
    error_message = "The agent_name_prefix must be letters, digits and hyphens (at most 60)."
  }
}

variable "agent_user" {
  description = "Unprivileged Linux user the agents run as (created when missing)."
  type        = string
  default     = "azagent"

  validation {
    condition     = can(regex("^[a-z_][a-z0-9_-]{0,31}$", var.agent_user)) && var.agent_user != "root"
    error_message = "The agent_user must be a Linux user name other than root."
  }
}

variable "agent_version" {
  description = "Azure Pipelines agent version the script downloads (from download.agent.dev.azure.com) and unpacks. The register script moves agents that are not registered yet to a newer version when the organization offers one; registered agents update themselves."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{1,4}\\.[0-9]{1,5}\\.[0-9]{1,5}$", var.agent_version))
    error_message = "The agent_version must be a version such as 4.275.0."
  }
}
