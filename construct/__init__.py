"""Hand-built neural operators and MoNOs (installs as ``mono.construct``)."""
