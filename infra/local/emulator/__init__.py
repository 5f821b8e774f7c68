"""The Appstore Reporting API emulator's parts; import it from infra.local.appstore_emulator."""
