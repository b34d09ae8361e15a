package layers

// The ids of the default catalog's layers. Code that holds a domain rule
// about a layer (the gas network, the buildings around a pipe) names it by
// one of these, never by a bare string.
const (
	District         = "district"
	Water            = "water"
	Road             = "road"
	Building         = "building"
	Label            = "label"
	GasPipe          = "gas_pipe"
	GasNode          = "gas_node"
	WaterPipe        = "water_pipe"
	WaterNode        = "water_node"
	DrainPipe        = "drain_pipe"
	DrainNode        = "drain_node"
	HeatPipe         = "heat_pipe"
	HeatNode         = "heat_node"
	PowerDuct        = "power_duct"
	TelecomDuct      = "telecom_duct"
	GasAdjacentSpace = "gas_adjacent_space"
	Bridge           = "bridge"
	UtilityTunnel    = "utility_tunnel"
	ProtectiveTarget = "protective_target"
	Hazard           = "hazard"
	RiskZone         = "risk_zone"
	Sensor           = "sensor"
)

// The fields by which a pipe names the nodes at its ends.
const (
	FromNode = "from_node"
	ToNode   = "to_node"
)
