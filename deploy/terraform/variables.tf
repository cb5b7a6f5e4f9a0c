variable "konnect_token" {
  description = "A Konnect personal or system access token (TF_VAR_konnect_token; never in a file)."
  type        = string
  sensitive   = true
}

variable "konnect_server_url" {
  description = "Your Konnect region's API, e.g. https://eu.api.konghq.com."
  type        = string
  default     = "https://us.api.konghq.com"
}

variable "bridge_public_url" {
  description = "Where Konnect reaches the bridge, with DCR_BRIDGE_BASE_PATH, e.g. https://bridge.example.com/v1/dcr."
  type        = string
}

variable "bridge_api_key" {
  description = "One of the bridge's DCR_BRIDGE_API_KEYS (TF_VAR_bridge_api_key, from your secret store)."
  type        = string
  sensitive   = true
}

variable "issuer" {
  description = "The IdP's issuer, as its discovery document names it (dcr-bridge doctor shows the token endpoint)."
  type        = string
}

variable "dcr_provider_name" {
  type    = string
  default = "dcr-bridge"
}

variable "auth_strategy_name" {
  type    = string
  default = "dcr-bridge"
}

variable "auth_strategy_display_name" {
  type    = string
  default = "OAuth 2.0 (client credentials)"
}

variable "credential_claim" {
  description = "The token claim that holds the client id (okta: cid; keycloak: azp; most others: client_id or sub)."
  type        = list(string)
  default     = ["client_id"]
}

variable "auth_methods" {
  type    = list(string)
  default = ["client_credentials", "bearer"]
}

variable "scopes" {
  type    = list(string)
  default = []
}
