terraform {
  required_version = ">= 1.5"

  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 4.55"
    }
    azapi = {
      source  = "Azure/azapi"
      version = "~> 2.8"
    }
  }
}

locals {
  # A fresh subscription has few resource providers registered. A Managed DevOps Pool
  # (agents_host = "managed-pool") needs two more: Microsoft.DevOpsInfrastructure and
  # Microsoft.DevCenter (learn.microsoft.com/azure/devops/managed-devops-pools/prerequisites).
  resource_providers = concat([
    "Microsoft.Compute",
    "Microsoft.ContainerRegistry",
    "Microsoft.ContainerService",
    "Microsoft.Insights",
    "Microsoft.KeyVault",
    "Microsoft.KubernetesConfiguration", # cluster extensions (the AzureML extension)
    "Microsoft.MachineLearningServices",
    "Microsoft.ManagedIdentity",
    "Microsoft.Network",
    "Microsoft.OperationalInsights",
    "Microsoft.Storage",
  ], local.managed_pool ? ["Microsoft.DevCenter", "Microsoft.DevOpsInfrastructure"] : [])
}

provider "azurerm" {
  subscription_id = var.subscription_id

  # Register exactly the resource providers this module uses (local.resource_providers above);
  # "none" turns off the provider's own, much longer default list.
  resource_provider_registrations = "none"
  resource_providers_to_register  = local.resource_providers

  features {
    resource_group {
      # Both resource groups belong to this deployment alone. Azure adds resources to them that
      # terraform does not know about (AKS load balancer rules, Azure ML diagnostics), which would
      # otherwise block `terraform destroy`.
      prevent_deletion_if_contains_resources = false
    }
    application_insights {
      # Do not let Azure create the "Smart Detection" alert rule and action group outside terraform.
      disable_generated_rule = true
    }
    key_vault {
      # Soft-deleted vaults keep their name for the retention period; purge on destroy so that
      # `destroy` then `init` with the same prefix works. Never silently recover someone's
      # soft-deleted vault (with its old secrets and access): the CLI's preflight reports it and
      # offers --purge-deleted or another prefix.
      purge_soft_delete_on_destroy    = true
      recover_soft_deleted_key_vaults = false
    }
    machine_learning {
      # Azure ML soft-deletes workspaces for 14 days; same reason as the key vault.
      purge_soft_deleted_workspace_on_destroy = true
    }
    log_analytics_workspace {
      permanently_delete_on_destroy = true
    }
  }
}

provider "azapi" {
  subscription_id = var.subscription_id
}
