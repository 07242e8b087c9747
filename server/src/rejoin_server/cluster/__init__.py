"""The cluster (docs/cluster.md): many nodes on one PostgreSQL database. `Membership` keeps this
node's row alive and carries handover requests between nodes; ownership itself is
`host.ownership`, and its safety is the store's fenced append."""
