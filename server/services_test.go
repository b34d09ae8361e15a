package server

import (
	"context"
	"github.com/onemap/onemap/auth"
	"github.com/onemap/onemap/incident"
	"github.com/onemap/onemap/incident/attach"
	"github.com/onemap/onemap/incident/response"
	"os"
	"time"

	"github.com/onemap/onemap/hub"
	"github.com/onemap/onemap/live"
	"github.com/onemap/onemap/spatial"
	"github.com/onemap/onemap/tiles"
)

// newTestServer is New with the services built over the options' store and
// live state, as cmd/onemap builds them, for those the options lack, and the
// live channel's hub when the options have a feed.
func newTestServer(o Options) *Server {
	o = withTestAccess(o)
	an := spatial.NewAnalyses(o.Catalog, o.Store, o.Now)
	if o.Analyses == nil {
		o.Analyses = an
	}
	if o.Tiles == nil {
		enc := tiles.NewEncoder(o.Catalog, o.Store)
		if adj := an.AdjacentLayer(); adj != nil {
			enc.With(adj.LayerID(), adj)
		}
		zones, zonesVersion := func() []spatial.AlarmZone { return nil }, func() uint64 { return 0 }
		if o.Live != nil {
			zones, zonesVersion = func() []spatial.AlarmZone {
				var sites []spatial.AlarmSite
				for _, a := range o.Live.Alarms(live.AlarmFilter{State: live.Active}) {
					sites = append(sites, SiteOf(&a))
				}
				return spatial.AlarmZones(context.Background(), o.Store, sites)
			}, o.Live.Version
		}
		now := o.Now
		if now == nil {
			now = time.Now
		}
		if rz, err := spatial.NewRiskZoneLayer(o.Catalog, o.Store, zones, zonesVersion, now); err == nil {
			enc.With(rz.LayerID(), rz)
			o.RiskVersion = rz.Changes
		}
		o.Tiles = enc
	}
	if o.Hub == nil && o.Feed != nil && o.Live != nil {
		o.Hub = hub.New(hub.Options{Snapshot: o.Feed.Snapshot})
	}
	if o.Incidents == nil && o.Live != nil {
		authz := o.Access.Authorizer
		if authz == nil {
			authz = auth.NewAuthorizer(nil)
		}
		o.Incidents = incident.NewBook(&incident.MemoryJournal{}, o.Now, Approver(authz))
		desk, err := response.New(o.Incidents, response.Options{Sites: response.LiveSites{Live: o.Live, Sensors: o.Sensors}, Now: o.Now})
		if err != nil {
			panic(err)
		}
		desk.Start(context.Background())
		o.Response = desk
		if dir, err := os.MkdirTemp("", "onemap-attach-"); err == nil {
			o.Attachments, _ = attach.NewDir(dir, attach.Options{})
			testDirs = append(testDirs, dir)
		}
	}
	return New(o)
}

// testDirs are the directories the test servers made, removed by TestMain.
var testDirs []string
