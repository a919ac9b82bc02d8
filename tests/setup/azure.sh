#!/usr/bin/env bash
# Azure's SDK for azure.azcollection (large): installed on demand. Filled by the Azure provider.
set -euo pipefail
