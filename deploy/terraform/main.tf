# Konnect's side of the bridge as code: the HTTP DCR provider that points at the bridge, and the OpenID Connect
# application auth strategy that uses it. The same two objects `dcr-bridge konnect setup` creates; use this when
# Konnect is already managed with Terraform (apps/server/README.md, "Connecting to Konnect", says when).
#
# Kong's Terraform provider for Konnect (kong/konnect); checked here for syntax and shape only
# (scripts/terraform.test.ts): nothing in this repository's CI can reach Konnect.

terraform {
  required_providers {
    konnect = {
      source  = "kong/konnect"
      version = ">= 3.2"
    }
  }
}

provider "konnect" {
  personal_access_token = var.konnect_token
  server_url            = var.konnect_server_url
}

# Konnect calls the bridge here with one of the bridge's API keys (DCR_BRIDGE_API_KEYS).
resource "konnect_dcr_provider" "dcr_bridge" {
  http = {
    name   = var.dcr_provider_name
    issuer = var.issuer
    dcr_config = {
      dcr_base_url = var.bridge_public_url
      api_key      = var.bridge_api_key
    }
    labels = {
      managed_by = "terraform"
    }
  }
}

# Applications that use this strategy get their client from the bridge; Kong's gateway validates their tokens
# against the IdP's issuer.
resource "konnect_application_auth_strategy" "dcr_bridge" {
  openid_connect = {
    name            = var.auth_strategy_name
    display_name    = var.auth_strategy_display_name
    strategy_type   = "openid_connect"
    dcr_provider_id = konnect_dcr_provider.dcr_bridge.id
    configs = {
      openid_connect = {
        issuer           = var.issuer
        credential_claim = var.credential_claim
        auth_methods     = var.auth_methods
        scopes           = var.scopes
      }
    }
  }
}

output "dcr_provider_id" {
  value = konnect_dcr_provider.dcr_bridge.id
}

output "auth_strategy_id" {
  description = "Attach this strategy to an API published in a Dev Portal (Konnect: APIs → the API → Portals)."
  value       = konnect_application_auth_strategy.dcr_bridge.id
}
