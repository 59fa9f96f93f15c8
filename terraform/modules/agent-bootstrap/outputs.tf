output "script" {
  description = "The rendered bootstrap script. Contains the PAT (base64-encoded) when devops_pat is set; marked sensitive either way."
  value       = local.script
  sensitive   = true
}

output "protected_settings" {
  description = "protected_settings of a Microsoft.Azure.Extensions/CustomScript 2.x extension that runs the script. Protected settings are encrypted for the VM and never shown in the VM model or the extension's status (but terraform keeps them in its state)."
  value       = jsonencode({ script = base64encode(local.script) })
  sensitive   = true
}

output "register_script" {
  description = "The rendered register script the bootstrap writes to register_script_path. It never contains the PAT."
  value       = local.register_script
}

output "register_script_path" {
  description = "Absolute path of the register script on the VM."
  value       = local.register_script_path
}

output "agent_names" {
  description = "Names the agents register with, in order."
  value       = [for i in range(1, var.num_agents + 1) : "${var.agent_name_prefix}-${i}"]
}
