# SPDX-License-Identifier: Apache-2.0
# devvault: a Vault/OpenBao-compatible development server with the OpenAI secrets engine.
