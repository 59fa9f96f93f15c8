# Azure ML on the AKS cluster (Azure ML v2): the AzureML cluster extension, configured for inference
# behind an internal load balancer, and the cluster attached to the workspace as a Kubernetes
# compute. Sources: learn.microsoft.com/azure/machine-learning/how-to-deploy-kubernetes-extension
# (configuration settings) and .../how-to-attach-kubernetes-to-workspace (identity and roles).

locals {
  inference_router_ha = var.aks_node_count >= 3

  # Settings of the extension. The first group is the documented inference configuration; the second
  # group is what `az k8s-extension create` (its AzureMLKubernetes partner code) and Microsoft's ARM
  # template for the extension on AKS add on their own, which a plain ARM/terraform create must give.
  azureml_extension_settings = {
    enableTraining               = "False" # training runs on the Azure ML compute cluster
    enableInference              = "True"
    inferenceRouterServiceType   = "LoadBalancer"
    internalLoadBalancerProvider = "azure" # the router's LoadBalancer service is internal
    allowInsecureConnections     = "True"  # HTTP scoring inside the VNET; no TLS certificate to manage
    inferenceRouterHA            = local.inference_router_ha ? "True" : "False"

    clusterPurpose                                          = local.inference_router_ha ? "FastProd" : "DevTest"
    "scoringFe.serviceType.internalLoadBalancer"            = "True"
    cluster_name                                            = azurerm_kubernetes_cluster.main.id
    clusterId                                               = azurerm_kubernetes_cluster.main.id
    cluster_name_friendly                                   = azurerm_kubernetes_cluster.main.name
    location                                                = azurerm_kubernetes_cluster.main.location
    domain                                                  = "${azurerm_kubernetes_cluster.main.location}.cloudapp.azure.com"
    jobSchedulerLocation                                    = azurerm_kubernetes_cluster.main.location
    "prometheus.prometheusSpec.externalLabels.cluster_name" = azurerm_kubernetes_cluster.main.id
    "servicebus.enabled"                                    = "false" # Azure Relay / Service Bus are for Arc clusters only
    "relayserver.enabled"                                   = "false"
    # The extension's own ingress-nginx controller (azureml-ingress-nginx-controller) stays on, as
    # `az k8s-extension create` sets it for every AKS cluster (k8s-extension AzureMLKubernetes.py:
    # nginxIngress.enabled defaults to 'true' for managedClusters, 'false' for Arc clusters). It is not
    # a training-only component: "Reference for configuring Kubernetes cluster for Azure Machine
    # Learning" (learn.microsoft.com/azure/machine-learning/reference-kubernetes, "Recommended resource
    # planning") marks it like azureml-fe and the inference operator (that table's Training and
    # Inference headings are swapped: aml-operator and volcano, the training parts, carry the other
    # mark), and its 100m CPU / 64Mi are part of the totals labelled inference-only (1780m / 2440Mi),
    # not of the training-only ones (410m / 1492Mi). No
    # Microsoft source says inference works on AKS without it, so it is not turned off in spite of the
    # retirement of upstream ingress-nginx (March 2026). Revisit when Microsoft documents the setting.
    "nginxIngress.enabled" = "true"
  }
}

resource "azurerm_kubernetes_cluster_extension" "azureml" {
  name       = "azureml"
  cluster_id = azurerm_kubernetes_cluster.main.id
  # Lowercase, as the API stores it. extension_type is ForceNew and Read copies the API's value into
  # the state (azurerm internal/services/containers/kubernetes_cluster_extension_resource.go), and the
  # API keeps the type in lowercase: the Azure ML studio finds the extension with the Resource Graph
  # filter properties.ExtensionType == "microsoft.azureml.kubernetes" (MicrosoftDocs/azure-docs#110642).
  # "Microsoft.AzureML.Kubernetes", as the docs' az examples write it, would plan a replacement of the
  # extension, and with it the deletion of every online endpoint on the cluster, at every later plan.
  extension_type    = "microsoft.azureml.kubernetes"
  release_train     = "stable"
  release_namespace = "azureml" # the extension is cluster-scoped and lives in the azureml namespace

  configuration_settings = local.azureml_extension_settings

  depends_on = [azurerm_monitor_data_collection_rule_association.container_insights]
}

# No role for the workspace's identity on the cluster. "Attach a Kubernetes cluster to Azure Machine
# Learning workspace" (learn.microsoft.com/azure/machine-learning/how-to-attach-kubernetes-to-workspace;
# MicrosoftDocs/azure-ai-docs articles/machine-learning/how-to-attach-kubernetes-to-workspace.md, section
# "Attach to workspace with user-assigned managed identity") asks for Reader, Kubernetes Extension
# Contributor and Azure Kubernetes Service Cluster Admin on the cluster only when the workspace has a
# user-assigned identity; with the default system-assigned identity, which this workspace has
# (ml_workspace.tf), "the steps are completed". The cluster admin role in particular would let the
# workspace's identity fetch the cluster's admin credential, i.e. full control of the cluster.
# test/terraform/module.test.ts refuses any "Cluster Admin" role in the module.

# No azurerm resource attaches a v2 Kubernetes compute: azapi against the Azure ML REST API, with the
# body `az ml compute attach --type Kubernetes --identity-type SystemAssigned` sends.
resource "azapi_resource" "aks_compute" {
  type      = "Microsoft.MachineLearningServices/workspaces/computes@2025-06-01"
  name      = var.aks_compute_name
  parent_id = azurerm_machine_learning_workspace.main.id
  location  = azurerm_machine_learning_workspace.main.location
  tags      = local.tags

  identity {
    type = "SystemAssigned"
  }

  body = {
    properties = {
      computeType = "Kubernetes"
      resourceId  = azurerm_kubernetes_cluster.main.id
      description = "AKS cluster ${local.names.aks} (AzureML extension, internal load balancer)"
      properties = {
        # Kubernetes namespace the online deployments run in; "default" always exists.
        namespace = "default"
      }
    }
  }

  response_export_values = ["properties.provisioningState"]

  depends_on = [azurerm_kubernetes_cluster_extension.azureml]
}

# The compute's own identity pulls images from the registry and reads models from the workspace's
# storage (the two roles the attach documentation names for this purpose).
resource "azurerm_role_assignment" "aks_compute" {
  for_each = {
    acr_pull          = { scope = azurerm_container_registry.main.id, role = "AcrPull" }
    storage_blob_read = { scope = azurerm_storage_account.main.id, role = "Storage Blob Data Reader" }
  }

  scope                = each.value.scope
  role_definition_name = each.value.role
  principal_id         = azapi_resource.aks_compute.identity[0].principal_id
  principal_type       = "ServicePrincipal"
  description          = "Azure ML Kubernetes compute ${var.aks_compute_name}"
}

# Dedicated ILB subnet (only when ilb_subnet_address_prefix is set). The AzureML extension has no
# documented configuration setting for the subnet of its internal load balancer: by default the
# Azure cloud provider puts an internal load balancer into the cluster's node subnet, which is what
# the default (the AKS subnet) relies on. For another subnet, the Kubernetes-level switch is the
# service annotation service.beta.kubernetes.io/azure-load-balancer-internal-subnet on the router's
# service (azureml-fe in namespace azureml). It is set through the AKS run-command API, so terraform
# needs no network path to the API server and no kubeconfig.
resource "azapi_resource_action" "ilb_subnet_annotation" {
  count = local.ilb_in_dedicated_subnet ? 1 : 0

  type        = "Microsoft.ContainerService/managedClusters@2025-10-01"
  resource_id = azurerm_kubernetes_cluster.main.id
  action      = "runCommand"
  method      = "POST"
  body = {
    command = "kubectl annotate service azureml-fe --namespace azureml --overwrite service.beta.kubernetes.io/azure-load-balancer-internal-subnet=${local.ilb_subnet.name}"
    context = ""
  }
  response_export_values = ["properties.exitCode", "properties.logs"]

  lifecycle {
    # a reinstalled extension recreates the service without the annotation
    replace_triggered_by = [azurerm_kubernetes_cluster_extension.azureml.id]

    postcondition {
      condition     = try(self.output.properties.exitCode, 1) == 0
      error_message = "Annotating the azureml-fe service with the ILB subnet failed (run command exit code is not 0); see properties.logs of the run command."
    }
  }

  depends_on = [
    azurerm_kubernetes_cluster_extension.azureml,
    azurerm_role_assignment.aks_subnet_network_contributor,
  ]
}
