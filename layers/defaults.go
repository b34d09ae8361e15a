package layers

import "strings"

// Enumerations shared by several layers.
var (
	// PressureClasses are the gas pressure classes of GB 50028, highest first.
	PressureClasses = []string{"high_a", "high_b", "subhigh_a", "subhigh_b", "medium_a", "medium_b", "low"}
	pipeMaterials   = []string{"steel", "pe", "ductile_iron", "cast_iron", "concrete", "pvc", "hdpe"}
)

// f makes a field; a Number field's unit follows from its name's suffix.
func f(name string, t FieldType, zh, en string) Field {
	fl := Field{Name: name, Type: t, Title: Text{zh, en}}
	if t == Number {
		for _, u := range unitSuffixes {
			if strings.HasSuffix(name, u.suffix) {
				fl.Unit = u.unit
				break
			}
		}
	}
	return fl
}

// unitSuffixes give the unit of a Number field from the end of its name.
var unitSuffixes = []struct{ suffix, unit string }{
	{"_mm", "mm"}, {"_m", "m"}, {"_km2", "km²"}, {"_mpa", "MPa"}, {"_kv", "kV"}, {"_kn", "kN"},
	{"_t", "t"}, {"_s", "s"}, {"_hz", "Hz"}, {"_deg", "°"}, {"_ue", "με"},
}

func req(fl Field) Field { fl.Required = true; return fl }

// personal marks a field as holding personal data, masked as kind.
func personal(fl Field, kind MaskKind) Field { fl.Personal, fl.Mask = true, kind; return fl }

// enum makes fl an enumeration of values, titled from valueTitles.
func enum(fl Field, values ...string) Field {
	fl.Values = values
	fl.ValueTitles = make(map[string]Text, len(values))
	for _, v := range values {
		if t, ok := valueTitles[v]; ok {
			fl.ValueTitles[v] = t
		}
	}
	return fl
}

// retitle gives some of an enumeration's values titles of their own, where
// the shared title does not fit the field.
func retitle(fl Field, titles map[string]Text) Field {
	for v, t := range titles {
		fl.ValueTitles[v] = t
	}
	return fl
}

// valueTitles name the values of the catalog's enumerations; retitle
// overrides them where a value means something else in a field.
var valueTitles = map[string]Text{
	// water bodies and place labels
	"river": {"河流", "River"}, "lake": {"湖泊", "Lake"}, "pond": {"坑塘", "Pond"}, "canal": {"沟渠", "Canal"},
	"district": {"行政区", "District"}, "neighbourhood": {"片区", "Neighbourhood"}, "park": {"公园", "Park"}, "landmark": {"地标", "Landmark"},
	// road classes (CJJ 37)
	"expressway": {"快速路", "Expressway"}, "arterial": {"主干路", "Arterial road"}, "secondary": {"次干路", "Secondary road"}, "branch": {"支路", "Branch road"},
	// building uses
	"residential": {"住宅", "Residential"}, "commercial": {"商业", "Commercial"}, "office": {"办公", "Office"}, "school": {"学校", "School"},
	"hospital": {"医院", "Hospital"}, "industrial": {"工业", "Industrial"}, "public": {"公共建筑", "Public building"}, "warehouse": {"仓储", "Warehouse"},
	// gas pressure classes (GB 50028)
	"high_a": {"高压A", "High pressure A"}, "high_b": {"高压B", "High pressure B"}, "subhigh_a": {"次高压A", "Sub-high pressure A"},
	"subhigh_b": {"次高压B", "Sub-high pressure B"}, "medium_a": {"中压A", "Medium pressure A"}, "medium_b": {"中压B", "Medium pressure B"}, "low": {"低压", "Low pressure"},
	// pipe materials
	"steel": {"钢", "Steel"}, "pe": {"聚乙烯(PE)", "Polyethylene (PE)"}, "ductile_iron": {"球墨铸铁", "Ductile iron"}, "cast_iron": {"灰口铸铁", "Cast iron"},
	"concrete": {"混凝土", "Concrete"}, "pvc": {"聚氯乙烯(PVC)", "PVC"}, "hdpe": {"高密度聚乙烯(HDPE)", "HDPE"},
	// network nodes
	"valve": {"阀门", "Valve"}, "tee": {"三通", "Tee"}, "regulator": {"调压箱", "Regulator"}, "station": {"场站", "Station"}, "end": {"末端", "End"}, "bend": {"弯头", "Bend"},
	"hydrant": {"消火栓", "Hydrant"}, "plant": {"厂站", "Plant"}, "large_user": {"大用户", "Large consumer"}, "substation": {"换热站", "Heat substation"},
	"manhole": {"检查井", "Manhole"}, "outfall": {"排放口", "Outfall"}, "pump_station": {"泵站", "Pumping station"}, "storage_tank": {"调蓄池", "Storage tank"},
	"waterlogging_point": {"易涝点", "Waterlogging point"}, "inlet": {"雨水口", "Gully inlet"},
	// pipe classes
	"transmission": {"输水管", "Transmission main"}, "main": {"干管", "Main"}, "distribution": {"配水管", "Distribution pipe"},
	"rain": {"雨水", "Stormwater"}, "sewage": {"污水", "Sewage"}, "combined": {"合流", "Combined"},
	"supply": {"供水", "Supply"}, "return": {"回水", "Return"},
	// bridges: structures and technical condition grades (JTG/T H21)
	"beam": {"梁桥", "Beam bridge"}, "arch": {"拱桥", "Arch bridge"}, "tied_arch": {"系杆拱桥", "Tied-arch bridge"},
	"cable_stayed": {"斜拉桥", "Cable-stayed bridge"}, "suspension": {"悬索桥", "Suspension bridge"},
	"A": {"一类", "Grade 1"}, "B": {"二类", "Grade 2"}, "C": {"三类", "Grade 3"}, "D": {"四类", "Grade 4"}, "E": {"五类", "Grade 5"},
	// utility tunnel compartments and monitoring domains
	"gas": {"燃气", "Gas"}, "power_telecom": {"电力通信舱", "Power and telecom"}, "water_heat": {"给水热力舱", "Water and heating"}, "drainage": {"排水", "Drainage"},
	"water": {"供水", "Water supply"}, "heating": {"热力", "Heating"}, "bridge": {"桥梁", "Bridge"}, "tunnel": {"综合管廊", "Utility tunnel"},
	// protective targets and hazards
	"kindergarten": {"幼儿园", "Kindergarten"}, "nursing_home": {"养老院", "Nursing home"}, "market": {"农贸市场", "Market"}, "mall": {"商场", "Shopping mall"},
	"metro_station": {"地铁站", "Metro station"}, "stadium": {"体育场馆", "Stadium"},
	"gas_station": {"加油站", "Filling station"}, "lpg_station": {"液化气站", "LPG station"}, "regulator_station": {"调压站", "Regulator station"},
	"chemical_store": {"危化品仓库", "Chemical store"}, "restaurant": {"餐饮场所", "Restaurant"}, "construction_site": {"施工工地", "Construction site"},
	// analyses
	"monitored": {"已监测", "Monitored"}, "unmonitored": {"未监测", "Unmonitored"}, "alarm": {"报警", "Alarm"}, "gas_pipe": {"燃气管线", "Gas pipe"},
	"I": {"重大风险", "Major risk"}, "II": {"较大风险", "High risk"}, "III": {"一般风险", "Moderate risk"}, "IV": {"低风险", "Low risk"},
}

var (
	fName   = f("name", String, "名称", "Name")
	fNameEn = f("name_en", String, "英文名称", "Name (English)")
	fDiam   = req(f("diameter_mm", Number, "管径(mm)", "Diameter (mm)"))
	fMat    = enum(req(f("material", String, "材质", "Material")), pipeMaterials...)
	fYear   = req(f("install_year", Number, "敷设年份", "Install year"))
	fDepth  = f("depth_m", Number, "埋深(m)", "Depth (m)")
	fLen    = f("length_m", Number, "长度(m)", "Length (m)")
	fFrom   = req(f(FromNode, Number, "起点节点", "From node"))
	fTo     = req(f(ToNode, Number, "终点节点", "To node"))
	fOwner  = f("owner", String, "权属单位", "Owning unit")
	fRoad   = f("road", String, "所在道路", "Road")
	// The duty contact of the unit that runs a target, hazard or structure.
	fContact = personal(f("contact", String, "联系人", "Contact"), MaskName)
	fPhone   = personal(f("contact_phone", String, "联系电话", "Contact phone"), MaskPhone)
)

// Default returns the catalog of the one map's layers, bottom to top.
func Default() *Catalog {
	groups := []Group{
		{"base", Text{"基础底图", "Base map"}},
		{"gas", Text{"燃气", "Gas"}},
		{"water", Text{"供水", "Water supply"}},
		{"drainage", Text{"排水", "Drainage"}},
		{"heating", Text{"热力", "Heating"}},
		{"underground", Text{"其他地下设施", "Other underground"}},
		{"structures", Text{"桥梁与综合管廊", "Bridges and tunnels"}},
		{"targets", Text{"防护目标与危险源", "Targets and hazards"}},
		{"monitoring", Text{"监测点位", "Sensors"}},
		{"risk", Text{"风险区域", "Risk zones"}},
	}
	ls := []*Layer{
		{ID: District, Code: 1, Group: "base", Title: Text{"行政区划", "Districts"}, Geometry: Polygon, MinZoom: 8, MaxZoom: 16, Static: true,
			Fields: []Field{req(fName), fNameEn, f("code", String, "区划代码", "Code"), f("population", Number, "人口", "Population"), f("area_km2", Number, "面积(km²)", "Area (km²)")},
			Style:  Style{Color: "#7c8593", Width: 1.5, Dash: []float64{3, 2}, Opacity: 0.03, Label: "name"}},
		{ID: Water, Code: 2, Group: "base", Title: Text{"水系", "Water bodies"}, Geometry: Polygon, MinZoom: 8, MaxZoom: 16, Static: true,
			Fields: []Field{fName, fNameEn, enum(req(f("kind", String, "类型", "Kind")), "river", "lake", "pond", "canal")},
			Style:  Style{Color: "#a9d3f2", Opacity: 1, Label: "name"}},
		{ID: Road, Code: 3, Group: "base", Title: Text{"道路", "Roads"}, Geometry: LineString, MinZoom: 10, MaxZoom: 16, Static: true,
			Fields: []Field{fName, fNameEn, enum(req(f("class", String, "道路等级", "Class")), "expressway", "arterial", "secondary", "branch"), f("lanes", Number, "车道数", "Lanes"), f("width_m", Number, "宽度(m)", "Width (m)")},
			Style: Style{Color: "#ffffff", ColorBy: "class", Colors: map[string]string{"expressway": "#fbd38d", "arterial": "#fde9b6", "secondary": "#ffffff", "branch": "#ffffff"},
				Width: 6, Label: "name"}},
		{ID: Building, Code: 4, Group: "base", Title: Text{"建筑", "Buildings"}, Geometry: Polygon, MinZoom: 13, MaxZoom: 16, Static: true,
			Fields: []Field{fName, enum(req(f("use", String, "用途", "Use")), "residential", "commercial", "office", "school", "hospital", "industrial", "public", "warehouse"),
				req(f("height_m", Number, "高度(m)", "Height (m)")), f("floors", Number, "层数", "Floors"), f("population", Number, "人数", "People"), f("basement", Boolean, "地下空间", "Basement")},
			Style: Style{Color: "#d9d3c7", ColorBy: "use", Colors: map[string]string{"residential": "#e0d6c8", "commercial": "#e8cfc0", "office": "#d4d8e0", "school": "#f1dca7", "hospital": "#f3c4c4", "industrial": "#d0cbd8", "public": "#d7e3cf", "warehouse": "#d6d0c4"}, Opacity: 0.9}},
		{ID: Label, Code: 5, Group: "base", Title: Text{"地名", "Place labels"}, Geometry: Point, MinZoom: 8, MaxZoom: 16, Static: true,
			Fields: []Field{req(fName), fNameEn, enum(req(f("kind", String, "类型", "Kind")), "district", "neighbourhood", "river", "park", "landmark"), f("rank", Number, "等级", "Rank")},
			Style:  Style{Color: "#374151", Label: "name"}},

		{ID: GasPipe, Time: "install_year", Nodes: GasNode, Code: 10, Group: "gas", Title: Text{"燃气管线", "Gas pipes"}, Geometry: LineString, MinZoom: 10, MaxZoom: 16, Static: true,
			Fields: []Field{enum(req(f("pressure_class", String, "压力级制", "Pressure class")), PressureClasses...), req(f("pressure_mpa", Number, "设计压力(MPa)", "Nominal pressure (MPa)")),
				fDiam, fMat, fYear, fDepth, fLen, fFrom, fTo, fRoad, fOwner, f("in_tunnel", Boolean, "入廊", "In utility tunnel")},
			Style: Style{Color: "#e8388a", ColorBy: "pressure_class", Colors: map[string]string{"high_a": "#7a0177", "high_b": "#7a0177", "subhigh_a": "#ae017e", "subhigh_b": "#ae017e", "medium_a": "#dd3497", "medium_b": "#f768a1", "low": "#f9a8d4"},
				Width: 2.5, WidthBy: "diameter_mm"}},
		{ID: GasNode, Code: 11, Group: "gas", Title: Text{"燃气节点", "Gas nodes"}, Geometry: Point, MinZoom: 14, MaxZoom: 16, Static: true,
			Fields: []Field{enum(req(f("kind", String, "类型", "Kind")), "valve", "tee", "regulator", "station", "end", "bend"), fName, fDepth, f("pressure_class", String, "压力级制", "Pressure class"), f("valve_well", Boolean, "阀门井", "Valve well")},
			Style:  Style{Color: "#be185d", Radius: 3, IconBy: "kind"}},
		{ID: WaterPipe, Time: "install_year", Nodes: WaterNode, Code: 12, Group: "water", Title: Text{"供水管线", "Water pipes"}, Geometry: LineString, MinZoom: 10, MaxZoom: 16, Static: true,
			Fields: []Field{enum(req(f("class", String, "管线类别", "Class")), "transmission", "main", "distribution"), fDiam, fMat, fYear, fDepth, fLen, fFrom, fTo, fRoad, fOwner},
			Style: Style{Color: "#0ea5e9", ColorBy: "class", Colors: map[string]string{"transmission": "#0c4a6e", "main": "#0284c7", "distribution": "#38bdf8"},
				Width: 2.5, WidthBy: "diameter_mm"}},
		{ID: WaterNode, Code: 13, Group: "water", Title: Text{"供水节点", "Water nodes"}, Geometry: Point, MinZoom: 14, MaxZoom: 16, Static: true,
			Fields: []Field{enum(req(f("kind", String, "类型", "Kind")), "valve", "tee", "hydrant", "plant", "large_user", "end", "bend"), fName, fDepth},
			Style:  Style{Color: "#0369a1", Radius: 3, IconBy: "kind"}},
		{ID: DrainPipe, Time: "install_year", Nodes: DrainNode, Code: 14, Group: "drainage", Title: Text{"排水管线", "Drain pipes"}, Geometry: LineString, MinZoom: 11, MaxZoom: 16, Static: true,
			Fields: []Field{enum(req(f("system", String, "排水体制", "System")), "rain", "sewage", "combined"), fDiam, fMat, fYear, fDepth, fLen, fFrom, fTo, fRoad, fOwner,
				f("up_invert_m", Number, "起点管底高程(m)", "Upstream invert (m)"), f("down_invert_m", Number, "终点管底高程(m)", "Downstream invert (m)")},
			Style: Style{Color: "#92400e", ColorBy: "system", Colors: map[string]string{"rain": "#a16207", "sewage": "#78350f", "combined": "#92400e"},
				Width: 2, WidthBy: "diameter_mm", Dash: []float64{3, 1}}},
		{ID: DrainNode, Code: 15, Group: "drainage", Title: Text{"排水节点", "Drainage nodes"}, Geometry: Point, MinZoom: 14, MaxZoom: 16, Static: true,
			Fields: []Field{enum(req(f("kind", String, "类型", "Kind")), "manhole", "outfall", "pump_station", "storage_tank", "waterlogging_point", "inlet"), fName, fDepth,
				f("ground_elev_m", Number, "地面高程(m)", "Ground elevation (m)"), f("system", String, "排水体制", "System")},
			Style: Style{Color: "#78350f", Radius: 3, IconBy: "kind"}},
		{ID: HeatPipe, Time: "install_year", Nodes: HeatNode, Code: 16, Group: "heating", Title: Text{"热力管线", "Heating pipes"}, Geometry: LineString, MinZoom: 11, MaxZoom: 16, Static: true,
			Fields: []Field{enum(req(f("line", String, "供回水", "Line")), "supply", "return"), fDiam, fMat, fYear, fDepth, fLen, fFrom, fTo, fRoad, fOwner, f("leak_count", Number, "历史泄漏次数", "Leaks on record")},
			Style:  Style{Color: "#f59e0b", ColorBy: "line", Colors: map[string]string{"supply": "#ea580c", "return": "#fbbf24"}, Width: 2, WidthBy: "diameter_mm"}},
		{ID: HeatNode, Code: 17, Group: "heating", Title: Text{"热力节点", "Heating nodes"}, Geometry: Point, MinZoom: 14, MaxZoom: 16, Static: true,
			Fields: []Field{enum(req(f("kind", String, "类型", "Kind")), "valve", "tee", "substation", "plant", "end", "bend"), fName, fDepth},
			Style:  Style{Color: "#c2410c", Radius: 3, IconBy: "kind"}},
		{ID: PowerDuct, Time: "install_year", Code: 18, Group: "underground", Title: Text{"电力管沟", "Power ducts"}, Geometry: LineString, MinZoom: 12, MaxZoom: 16, Static: true,
			Fields: []Field{f("voltage_kv", Number, "电压(kV)", "Voltage (kV)"), f("width_m", Number, "断面宽(m)", "Width (m)"), fDepth, fYear, fLen, fRoad, fOwner},
			Style:  Style{Color: "#dc2626", Width: 1.5, Dash: []float64{4, 2}}},
		{ID: TelecomDuct, Time: "install_year", Code: 19, Group: "underground", Title: Text{"通信管道", "Telecom ducts"}, Geometry: LineString, MinZoom: 12, MaxZoom: 16, Static: true,
			Fields: []Field{f("holes", Number, "孔数", "Duct holes"), fDepth, fYear, fLen, fRoad, fOwner},
			Style:  Style{Color: "#16a34a", Width: 1.5, Dash: []float64{1, 2}}},
		{ID: GasAdjacentSpace, Code: 30, Group: "underground", Derived: true, Title: Text{"燃气相邻地下空间", "Gas-adjacent spaces"}, Geometry: Point, MinZoom: 13, MaxZoom: 16,
			Fields: []Field{req(f("space", Number, "地下空间", "Space")), req(f("space_layer", String, "空间图层", "Space layer")), f("kind", String, "类型", "Kind"),
				req(f("distance_m", Number, "距燃气管线(m)", "To gas pipe (m)")), req(f("pipe", Number, "燃气管线", "Gas pipe")), f("pressure_class", String, "压力级制", "Pressure class"),
				enum(req(f("status", String, "监测状态", "Monitoring")), "monitored", "unmonitored"), f("sensor", Number, "燃气监测点", "Gas sensor"),
				f("people", Number, "周边人数", "People around"), req(f("risk", Number, "风险指数", "Risk"))},
			Style: Style{Color: "#f97316", ColorBy: "status", Colors: map[string]string{"monitored": "#16a34a", "unmonitored": "#dc2626"}, Radius: 4}},
		{ID: Bridge, Time: "build_year", Code: 20, Group: "structures", Title: Text{"桥梁", "Bridges"}, Geometry: Polygon, MinZoom: 10, MaxZoom: 16, Static: true,
			Fields: []Field{req(fName), fNameEn, enum(req(f("structure", String, "结构形式", "Structure")), "beam", "arch", "tied_arch", "cable_stayed", "suspension"),
				req(f("main_span_m", Number, "主跨(m)", "Main span (m)")), req(f("length_m", Number, "桥长(m)", "Length (m)")), f("width_m", Number, "桥宽(m)", "Width (m)"),
				f("build_year", Number, "建成年份", "Built"), enum(f("condition", String, "技术状况等级", "Condition grade"), "A", "B", "C", "D", "E"), f("rated_load_t", Number, "设计荷载(t)", "Rated load (t)"), fRoad,
				f("design_strain_ue", Number, "设计应变限值(με)", "Design strain (με)"), f("design_deflection_mm", Number, "设计挠度限值(mm)", "Design deflection (mm)"),
				f("design_displacement_mm", Number, "设计位移限值(mm)", "Design displacement (mm)"), f("design_tilt_deg", Number, "设计倾角限值(°)", "Design tilt (°)"),
				f("design_cable_force_kn", Number, "设计索力(kN)", "Design cable force (kN)"), f("baseline_frequency_hz", Number, "基准一阶频率(Hz)", "Baseline frequency (Hz)"),
				fContact, fPhone},
			Style: Style{Color: "#6b7280", Width: 1.5, Opacity: 0.85, Label: "name"}},
		{ID: UtilityTunnel, Time: "install_year", Code: 21, Group: "structures", Title: Text{"综合管廊", "Utility tunnel"}, Geometry: LineString, MinZoom: 10, MaxZoom: 16, Static: true,
			Fields: []Field{req(fName), fNameEn, retitle(enum(req(f("compartment", String, "舱室", "Compartment")), "gas", "power_telecom", "water_heat", "drainage"),
				map[string]Text{"gas": {"燃气舱", "Gas"}, "drainage": {"排水舱", "Drainage"}}),
				req(f("fire_zone", Number, "防火分区", "Fire zone")), f("carries", String, "入廊管线", "Carries"), f("width_m", Number, "舱宽(m)", "Width (m)"), fDepth, fLen, fYear, fOwner},
			Style: Style{Color: "#7c3aed", ColorBy: "compartment", Colors: map[string]string{"gas": "#e8388a", "power_telecom": "#7c3aed", "water_heat": "#2563eb", "drainage": "#92400e"}, Width: 3}},
		{ID: ProtectiveTarget, Code: 22, Group: "targets", Title: Text{"防护目标", "Protective targets"}, Geometry: Point, MinZoom: 11, MaxZoom: 16, Static: true,
			Fields: []Field{req(fName), fNameEn, retitle(enum(req(f("kind", String, "类型", "Kind")), "school", "kindergarten", "hospital", "nursing_home", "market", "mall", "metro_station", "station", "stadium", "residential"),
				map[string]Text{"station": {"车站", "Railway or bus station"}, "residential": {"居民小区", "Residential compound"}}),
				f("people_day", Number, "白天人数", "People by day"), f("people_night", Number, "夜间人数", "People at night"), f("building", Number, "所在建筑", "Building"), fContact, fPhone},
			Style: Style{Color: "#2563eb", IconBy: "kind", Label: "name"}},
		{ID: Hazard, Code: 23, Group: "targets", Title: Text{"危险源", "Hazards"}, Geometry: Point, MinZoom: 11, MaxZoom: 16, Static: true,
			Fields: []Field{req(fName), fNameEn, enum(req(f("kind", String, "类型", "Kind")), "gas_station", "lpg_station", "regulator_station", "chemical_store", "restaurant", "construction_site"),
				f("substance", String, "危险物质", "Substance"), f("quantity_t", Number, "存量(t)", "Quantity (t)"), fContact, fPhone},
			Style: Style{Color: "#dc2626", IconBy: "kind", Label: "name"}},
		{ID: RiskZone, Code: 31, Group: "risk", Derived: true, Live: true, Title: Text{"风险区域", "Risk zones"}, Geometry: Polygon, MinZoom: 11, MaxZoom: 16,
			Fields: []Field{enum(req(f("source", String, "来源", "Source")), "alarm", "gas_pipe"), enum(req(f("grade", String, "风险等级", "Grade")), "I", "II", "III", "IV"),
				f("alarm", Number, "报警", "Alarm"), f("level", Number, "报警级别", "Alarm level"), f("domain", String, "行业", "Domain"), f("scenario", String, "情景", "Scenario"),
				f("pipe", Number, "燃气管线", "Gas pipe"), f("score", Number, "风险指数", "Risk score"), req(f("radius_m", Number, "影响半径(m)", "Radius (m)"))},
			Style: Style{Color: "#f97316", ColorBy: "grade", Colors: map[string]string{"I": "#dc2626", "II": "#f97316", "III": "#eab308", "IV": "#3b82f6"}, Opacity: 0.18, Width: 1}},
		{ID: Sensor, Time: "installed", Code: 24, Group: "monitoring", Title: Text{"监测点位", "Sensors"}, Geometry: Point, MinZoom: 14, MaxZoom: 16, Static: true,
			Fields: []Field{req(f("code", String, "设备编号", "Device id")), enum(req(f("domain", String, "行业", "Domain")), "gas", "water", "drainage", "heating", "bridge", "tunnel"),
				req(f("kind", String, "类型", "Kind")), req(f("metrics", String, "监测指标", "Metrics")), req(f("asset", Number, "监测对象", "Asset")), req(f("asset_layer", String, "对象图层", "Asset layer")),
				f("interval_s", Number, "上报周期(s)", "Interval (s)"), f("installed", String, "安装日期", "Installed"), fOwner},
			Style: Style{Color: "#10b981", ColorBy: "domain", Colors: map[string]string{"gas": "#db2777", "water": "#0284c7", "drainage": "#92400e", "heating": "#ea580c", "bridge": "#4b5563", "tunnel": "#7c3aed"}, Radius: 4}},
	}
	c, err := NewCatalog(groups, ls)
	if err != nil {
		panic(err) // the default catalog is fixed; its tests keep it valid
	}
	return c
}
