package cap

import (
	"encoding/xml"
	"fmt"
	"time"
)

// Feed is an Atom feed (RFC 4287) of the current alerts, each entry linking
// to its CAP document.
type Feed struct {
	XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string   `xml:"id"`
	Title   string   `xml:"title"`
	Updated string   `xml:"updated"`
	Author  Person   `xml:"author"`
	Link    []Link   `xml:"link"`
	Entries []Entry  `xml:"entry"`
}

// Person is an Atom author.
type Person struct {
	Name string `xml:"name"`
}

// Link is an Atom link.
type Link struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

// Entry is one alert in a feed.
type Entry struct {
	ID      string `xml:"id"`
	Title   string `xml:"title"`
	Updated string `xml:"updated"`
	Summary string `xml:"summary,omitempty"`
	Link    []Link `xml:"link"`
}

// AtomFeed builds the feed of alerts: id and self are the feed's IRI and
// address, href gives the address of an alert's CAP document. Updated is the
// latest sent time (updated when there are none).
func AtomFeed(id, title, author, self string, updated time.Time, alerts []*Alert, href func(*Alert) string) (*Feed, error) {
	f := &Feed{ID: id, Title: title, Author: Person{Name: author},
		Link: []Link{{Rel: "self", Type: "application/atom+xml", Href: self}}}
	latest := updated
	for _, a := range alerts {
		sent, err := time.Parse(TimeLayout, a.Sent)
		if err != nil {
			return nil, fmt.Errorf("cap: feed: alert %s: %w", a.Identifier, err)
		}
		if sent.After(latest) {
			latest = sent
		}
		e := Entry{ID: "urn:cap:" + a.Sender + ":" + a.Identifier, Updated: sent.Format(time.RFC3339),
			Link: []Link{{Rel: "alternate", Type: "application/cap+xml", Href: href(a)}}}
		if len(a.Infos) > 0 {
			e.Title, e.Summary = a.Infos[0].Headline, a.Infos[0].Description
		}
		if e.Title == "" {
			e.Title = a.Identifier
		}
		f.Entries = append(f.Entries, e)
	}
	f.Updated = latest.Format(time.RFC3339)
	return f, nil
}
