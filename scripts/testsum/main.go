// Command testsum reads the JSON stream of `go test -json` on stdin and
// writes what a plain `go test` run would show: a line per package, and
// the whole output of every test that failed (and of every test still
// running when its package failed: a panic, a timeout). Skipped tests get
// their skip line and reason. At the end it counts the tests (subtests
// included) that passed, failed and were skipped.
//
//	go test -json ./... | testsum -name "go test" -counts FILE
//	testsum -total FILE
//
// -counts appends the run's counts to FILE; -total reads such a file and
// writes each run's counts and their sum. testsum exits 1 when a test or a
// package failed.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// event is one line of `go test -json` (go doc test2json).
type event struct {
	Action      string
	Package     string
	Test        string
	Output      string
	ImportPath  string // of build-output and build-fail
	FailedBuild string // of a package's fail
}

// counts are a run's results; Top counts the tests that are not subtests.
type counts struct {
	Pass, Fail, Skip, Top int
	// BadPackages counts the packages that failed with no test failing:
	// a build error, a crash outside a test, TestMain.
	BadPackages int
}

func (c counts) run() int { return c.Pass + c.Fail + c.Skip }

func (c *counts) add(o counts) {
	c.Pass += o.Pass
	c.Fail += o.Fail
	c.Skip += o.Skip
	c.Top += o.Top
	c.BadPackages += o.BadPackages
}

// summary is the line a run ends with.
func (c counts) summary(name string) string {
	tests := "tests"
	if c.run() == 1 {
		tests = "test"
	}
	s := fmt.Sprintf("%s: %s %s (%s top-level, the rest subtests): %s passed, %s skipped, %s failed",
		name, thousands(c.run()), tests, thousands(c.Top), thousands(c.Pass), thousands(c.Skip), thousands(c.Fail))
	if c.BadPackages > 0 {
		packages := "packages"
		if c.BadPackages == 1 {
			packages = "package"
		}
		s += fmt.Sprintf("; %d %s failed outside their tests", c.BadPackages, packages)
	}
	return s
}

func (c counts) failed() bool { return c.Fail > 0 || c.BadPackages > 0 }

// thousands writes n with commas: 1,234.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// summariser follows the stream. The output of each test waits in tests
// until its result says whether to show it; what is shown of a package
// waits in packages until the package ends, so that the packages' blocks
// do not interleave, as with plain go test.
type summariser struct {
	out      io.Writer
	tests    map[testKey]*strings.Builder
	packages map[string]*strings.Builder
	// started numbers the tests in the order their output began.
	started map[testKey]int
	// failedTests counts each package's failed tests.
	failedTests map[string]int
	c           counts
}

type testKey struct{ pkg, test string }

func newSummariser(out io.Writer) *summariser {
	return &summariser{out: out, tests: map[testKey]*strings.Builder{}, packages: map[string]*strings.Builder{},
		started: map[testKey]int{}, failedTests: map[string]int{}}
}

func (s *summariser) event(e event) {
	switch e.Action {
	case "build-output":
		// A compiler's message: shown as it comes, as go test shows it.
		io.WriteString(s.out, e.Output)
		return
	case "build-fail":
		return // the package's fail follows
	}
	if e.Test == "" {
		s.packageEvent(e)
		return
	}
	k := testKey{e.Package, e.Test}
	switch e.Action {
	case "output":
		b := s.tests[k]
		if b == nil {
			b = new(strings.Builder)
			s.tests[k] = b
			s.started[k] = len(s.started)
		}
		b.WriteString(e.Output)
	case "pass":
		s.c.Pass++
		s.top(e)
		s.drop(k)
	case "skip":
		s.c.Skip++
		s.top(e)
		s.showSkip(k)
	case "fail":
		s.c.Fail++
		s.top(e)
		s.failedTests[e.Package]++
		// The parents' output so far first: their === RUN lines and
		// what they logged before the subtest.
		for i := range len(e.Test) {
			if e.Test[i] == '/' {
				s.show(testKey{e.Package, e.Test[:i]})
			}
		}
		s.show(k)
	}
}

func (s *summariser) top(e event) {
	if !strings.Contains(e.Test, "/") {
		s.c.Top++
	}
}

// write adds to what is shown of a package.
func (s *summariser) write(pkg, text string) {
	b := s.packages[pkg]
	if b == nil {
		b = new(strings.Builder)
		s.packages[pkg] = b
	}
	b.WriteString(text)
}

func (s *summariser) drop(k testKey) {
	delete(s.tests, k)
	delete(s.started, k)
}

// show shows a test's whole output.
func (s *summariser) show(k testKey) {
	if b := s.tests[k]; b != nil {
		s.write(k.pkg, b.String())
	}
	s.drop(k)
}

// showSkip shows a skipped test's output less its "=== RUN" lines.
func (s *summariser) showSkip(k testKey) {
	if b := s.tests[k]; b != nil {
		for line := range strings.Lines(b.String()) {
			if t := strings.TrimSpace(line); !strings.HasPrefix(t, "=== ") {
				s.write(k.pkg, line)
			}
		}
	}
	s.drop(k)
}

func (s *summariser) packageEvent(e event) {
	switch e.Action {
	case "output":
		// The package's own lines: ok, FAIL, no test files, and what the
		// binary wrote outside any test. The bare PASS of -v is noise.
		if strings.HasPrefix(e.Output, "FAIL\t"+e.Package) {
			s.showUnfinished(e.Package)
		}
		if e.Output != "PASS\n" {
			s.write(e.Package, e.Output)
		}
	case "fail":
		s.showUnfinished(e.Package)
		if s.failedTests[e.Package] == 0 {
			s.c.BadPackages++
		}
		s.flush(e.Package)
	case "pass", "skip":
		for k := range s.tests {
			if k.pkg == e.Package {
				s.drop(k)
			}
		}
		s.flush(e.Package)
	}
}

// flush writes what is shown of a package.
func (s *summariser) flush(pkg string) {
	if b := s.packages[pkg]; b != nil {
		io.WriteString(s.out, b.String())
	}
	delete(s.packages, pkg)
}

// showUnfinished shows the output of a failed package's tests that have
// no result: they were running when it failed, and their output holds the
// panic or the timeout. Those that started first come first.
func (s *summariser) showUnfinished(pkg string) {
	var left []testKey
	for k := range s.tests {
		if k.pkg == pkg {
			left = append(left, k)
		}
	}
	slices.SortFunc(left, func(a, b testKey) int { return s.started[a] - s.started[b] })
	for _, k := range left {
		s.show(k)
	}
}

// read follows the stream on r; a line that is not JSON (go test's own
// complaints, on stderr in a pipe with 2>&1) is written as it is. At the
// end of the stream it writes what it holds of packages that did not end:
// the go command was stopped.
func (s *summariser) read(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil || e.Action == "" {
			fmt.Fprintf(s.out, "%s\n", line)
			continue
		}
		s.event(e)
	}
	var pkgs []string
	for k := range s.tests {
		pkgs = append(pkgs, k.pkg)
	}
	for p := range s.packages {
		pkgs = append(pkgs, p)
	}
	slices.Sort(pkgs)
	for _, p := range slices.Compact(pkgs) {
		s.showUnfinished(p)
		s.flush(p)
	}
	return sc.Err()
}

// record appends a run's counts to a file: name and five numbers a line.
func record(file, name string, c counts) error {
	f, err := os.OpenFile(file, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("counts: %w", err)
	}
	_, err = fmt.Fprintf(f, "%d %d %d %d %d %s\n", c.Pass, c.Fail, c.Skip, c.Top, c.BadPackages, name)
	return errors.Join(err, f.Close())
}

// total writes each run recorded in file and their sum.
func total(out io.Writer, file string) (counts, error) {
	p, err := os.ReadFile(file)
	if err != nil {
		return counts{}, fmt.Errorf("counts: %w", err)
	}
	var sum counts
	for line := range strings.Lines(string(p)) {
		var c counts
		var name string
		if _, err := fmt.Sscanf(line, "%d %d %d %d %d", &c.Pass, &c.Fail, &c.Skip, &c.Top, &c.BadPackages); err != nil {
			return counts{}, fmt.Errorf("counts: %q: %w", line, err)
		}
		if f := strings.Fields(line); len(f) > 5 {
			name = strings.Join(f[5:], " ")
		}
		fmt.Fprintf(out, "== %s\n", c.summary(name))
		sum.add(c)
	}
	fmt.Fprintf(out, "== %s\n", sum.summary("in all"))
	return sum, nil
}

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

// run is the command with its arguments and streams; it returns the exit
// code: 0 when every test passed or skipped, 1 when one failed, 2 when
// testsum itself could not do its work.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("testsum", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "go test", "the run's name in the summary")
	countsFile := fs.String("counts", "", "append the run's counts to this file")
	totalFile := fs.String("total", "", "write the runs recorded in this file and their sum, and read no stream")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var c counts
	if *totalFile != "" {
		sum, err := total(stdout, *totalFile)
		if err != nil {
			fmt.Fprintln(stderr, "testsum:", err)
			return 2
		}
		c = sum
	} else {
		start := time.Now()
		s := newSummariser(stdout)
		if err := s.read(stdin); err != nil {
			fmt.Fprintln(stderr, "testsum:", err)
			return 2
		}
		c = s.c
		fmt.Fprintf(stdout, "== %s, in %s\n", c.summary(*name), time.Since(start).Round(time.Second))
		if *countsFile != "" {
			if err := record(*countsFile, *name, c); err != nil {
				fmt.Fprintln(stderr, "testsum:", err)
				return 2
			}
		}
	}
	if c.failed() {
		return 1
	}
	return 0
}
