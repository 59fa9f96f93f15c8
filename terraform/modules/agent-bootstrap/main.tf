# Renders the two scripts of the agent VM. No resources and no providers: the root module hands the
# bootstrap to a CustomScript VM extension, and the repository's tests render both offline with
# terraform itself (test/terraform/agent-bootstrap.test.ts).
#
# - bootstrap-agents.sh: run once (and again on every change of its inputs) by the extension, as root.
#   Installs the tools, the agents' user and the agent package into /opt/azagent/agent-1..N, and
#   writes register-agents.sh. Registers the agents only when devops_pat is set.
# - register-agents.sh: /opt/azagent/register-agents.sh on the VM, root-only. Registers (or repairs)
#   agents 1..N with the PAT it gets in its environment (AZP_TOKEN), never from this module. The
#   azure-mlops CLI runs it through an Azure Run Command after `terraform apply`.

terraform {
  required_version = ">= 1.5"
}

locals {
  devops_url           = trimsuffix(var.devops_url, "/")
  register_script_path = "/opt/azagent/register-agents.sh"

  # No secret in here, whatever devops_pat is: the PAT only ever reaches this script through its
  # environment.
  register_script = templatefile("${path.module}/register-agents.sh.tftpl", {
    devops_url        = local.devops_url
    devops_pool       = var.devops_pool
    num_agents        = var.num_agents
    agent_name_prefix = var.agent_name_prefix
    agent_user        = var.agent_user
  })

  script = templatefile("${path.module}/bootstrap-agents.sh.tftpl", {
    devops_url             = local.devops_url
    devops_pool            = var.devops_pool
    num_agents             = var.num_agents
    agent_name_prefix      = var.agent_name_prefix
    agent_user             = var.agent_user
    agent_version          = var.agent_version
    register_script_path   = local.register_script_path
    register_script_base64 = base64encode(local.register_script)
    # Empty when devops_pat is null. Encoded so that no character of the token can break the shell
    # quoting around it.
    pat_base64 = var.devops_pat == null ? "" : base64encode(var.devops_pat)
  })
}
