package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// stream is what `go test -json` writes for a package a/ok whose two tests
// pass (one with a subtest), a package a/bad with a failing test, a
// skipped one and one running when the binary panicked, and a package
// a/nobuild that does not compile.
const stream = `{"Action":"start","Package":"a/ok"}
{"Action":"run","Package":"a/ok","Test":"TestOne"}
{"Action":"output","Package":"a/ok","Test":"TestOne","Output":"=== RUN   TestOne\n"}
{"Action":"output","Package":"a/ok","Test":"TestOne","Output":"    one_test.go:9: chatter\n"}
{"Action":"output","Package":"a/ok","Test":"TestOne","Output":"--- PASS: TestOne (0.00s)\n"}
{"Action":"pass","Package":"a/ok","Test":"TestOne","Elapsed":0}
{"Action":"run","Package":"a/ok","Test":"TestTwo"}
{"Action":"run","Package":"a/ok","Test":"TestTwo/sub"}
{"Action":"pass","Package":"a/ok","Test":"TestTwo/sub","Elapsed":0}
{"Action":"pass","Package":"a/ok","Test":"TestTwo","Elapsed":0}
{"Action":"output","Package":"a/ok","Output":"PASS\n"}
{"Action":"output","Package":"a/ok","Output":"ok  \ta/ok\t0.01s\n"}
{"Action":"pass","Package":"a/ok","Elapsed":0.01}
{"Action":"run","Package":"a/bad","Test":"TestFails"}
{"Action":"output","Package":"a/bad","Test":"TestFails","Output":"=== RUN   TestFails\n"}
{"Action":"run","Package":"a/bad","Test":"TestSkips"}
{"Action":"output","Package":"a/bad","Test":"TestSkips","Output":"=== RUN   TestSkips\n"}
{"Action":"output","Package":"a/bad","Test":"TestFails","Output":"    bad_test.go:5: got 1, want 2\n"}
{"Action":"output","Package":"a/bad","Test":"TestSkips","Output":"    bad_test.go:9: no chromium\n"}
{"Action":"output","Package":"a/bad","Test":"TestSkips","Output":"--- SKIP: TestSkips (0.00s)\n"}
{"Action":"skip","Package":"a/bad","Test":"TestSkips","Elapsed":0}
{"Action":"output","Package":"a/bad","Test":"TestFails","Output":"--- FAIL: TestFails (0.00s)\n"}
{"Action":"fail","Package":"a/bad","Test":"TestFails","Elapsed":0}
{"Action":"run","Package":"a/bad","Test":"TestPanics"}
{"Action":"output","Package":"a/bad","Test":"TestPanics","Output":"=== RUN   TestPanics\n"}
{"Action":"output","Package":"a/bad","Test":"TestPanics","Output":"panic: boom\n"}
{"Action":"output","Package":"a/bad","Output":"FAIL\ta/bad\t0.02s\n"}
{"Action":"fail","Package":"a/bad","Elapsed":0.02}
{"ImportPath":"a/nobuild [a/nobuild.test]","Action":"build-output","Output":"a/nobuild/x.go:3:1: syntax error\n"}
{"ImportPath":"a/nobuild [a/nobuild.test]","Action":"build-fail"}
{"Action":"start","Package":"a/nobuild"}
{"Action":"output","Package":"a/nobuild","Output":"FAIL\ta/nobuild [build failed]\n"}
{"Action":"fail","Package":"a/nobuild","Elapsed":0,"FailedBuild":"a/nobuild [a/nobuild.test]"}
go: warning: a line that is not JSON
`

func TestSummariser(t *testing.T) {
	var out strings.Builder
	s := newSummariser(&out)
	if err := s.read(strings.NewReader(stream)); err != nil {
		t.Fatal(err)
	}
	want := counts{Pass: 3, Fail: 1, Skip: 1, Top: 4, BadPackages: 1}
	if s.c != want {
		t.Errorf("counts %+v, want %+v", s.c, want)
	}
	got := out.String()
	for _, line := range []string{
		"ok  \ta/ok\t0.01s\n",
		"=== RUN   TestFails\n    bad_test.go:5: got 1, want 2\n--- FAIL: TestFails (0.00s)\n",
		"    bad_test.go:9: no chromium\n--- SKIP: TestSkips (0.00s)\n",
		"=== RUN   TestPanics\npanic: boom\n",
		"FAIL\ta/bad\t0.02s\n",
		"a/nobuild/x.go:3:1: syntax error\n",
		"FAIL\ta/nobuild [build failed]\n",
		"go: warning: a line that is not JSON\n",
	} {
		if !strings.Contains(got, line) {
			t.Errorf("the output lacks %q:\n%s", line, got)
		}
	}
	for _, noise := range []string{"chatter", "PASS\n", "=== RUN   TestSkips", "TestOne"} {
		if strings.Contains(got, noise) {
			t.Errorf("the output shows %q of passing tests:\n%s", noise, got)
		}
	}
	if !s.c.failed() {
		t.Error("a run with a failed test is not failed")
	}
}

// Packages run at once write their lines interleaved; each package's
// lines come out together when it ends.
func TestPackagesDoNotInterleave(t *testing.T) {
	const stream = `{"Action":"run","Package":"a/one","Test":"TestA"}
{"Action":"output","Package":"a/one","Test":"TestA","Output":"=== RUN   TestA\n"}
{"Action":"output","Package":"a/two","Output":"testing: warning: no tests to run\n"}
{"Action":"output","Package":"a/one","Test":"TestA","Output":"    a_test.go:1: broke\n"}
{"Action":"output","Package":"a/one","Test":"TestA","Output":"--- FAIL: TestA (0.00s)\n"}
{"Action":"fail","Package":"a/one","Test":"TestA"}
{"Action":"output","Package":"a/two","Output":"ok  \ta/two\t0.01s\n"}
{"Action":"pass","Package":"a/two"}
{"Action":"output","Package":"a/one","Output":"FAIL\ta/one\t0.01s\n"}
{"Action":"fail","Package":"a/one"}
{"Action":"run","Package":"a/three","Test":"TestHangs"}
{"Action":"output","Package":"a/three","Test":"TestHangs","Output":"=== RUN   TestHangs\n"}
`
	var out strings.Builder
	s := newSummariser(&out)
	if err := s.read(strings.NewReader(stream)); err != nil {
		t.Fatal(err)
	}
	want := "testing: warning: no tests to run\nok  \ta/two\t0.01s\n" +
		"=== RUN   TestA\n    a_test.go:1: broke\n--- FAIL: TestA (0.00s)\nFAIL\ta/one\t0.01s\n" +
		"=== RUN   TestHangs\n" // the stream ended with it running
	if out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestTotal(t *testing.T) {
	file := filepath.Join(t.TempDir(), "counts")
	if err := record(file, "go test", counts{Pass: 1200, Skip: 4, Top: 900}); err != nil {
		t.Fatal(err)
	}
	if err := record(file, "go test -race", counts{Pass: 300, Fail: 1, Top: 200}); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	sum, err := total(&out, file)
	if err != nil {
		t.Fatal(err)
	}
	want := "== go test: 1,204 tests (900 top-level, the rest subtests): 1,200 passed, 4 skipped, 0 failed\n" +
		"== go test -race: 301 tests (200 top-level, the rest subtests): 300 passed, 0 skipped, 1 failed\n" +
		"== in all: 1,505 tests (1,100 top-level, the rest subtests): 1,500 passed, 4 skipped, 1 failed\n"
	if out.String() != want {
		t.Errorf("total:\n%s\nwant:\n%s", out.String(), want)
	}
	if !sum.failed() {
		t.Error("a failed test in one run does not fail the sum")
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %s, want %s", n, got, want)
		}
	}
}

// The command exits 1 when a test failed, 0 when all passed or skipped,
// in a run and in the total of the runs recorded.
func TestExitCode(t *testing.T) {
	file := filepath.Join(t.TempDir(), "counts")
	const passing = `{"Action":"run","Package":"a/ok","Test":"TestOne"}
{"Action":"pass","Package":"a/ok","Test":"TestOne"}
{"Action":"output","Package":"a/ok","Output":"ok  \ta/ok\t0.01s\n"}
{"Action":"pass","Package":"a/ok"}
`
	var out, errs strings.Builder
	if code := run([]string{"-name", "plain", "-counts", file}, strings.NewReader(passing), &out, &errs); code != 0 {
		t.Errorf("a passing run exits %d: %s%s", code, out.String(), errs.String())
	}
	if code := run([]string{"-total", file}, nil, &out, &errs); code != 0 {
		t.Errorf("the total of a passing run exits %d: %s%s", code, out.String(), errs.String())
	}
	out.Reset()
	if code := run([]string{"-name", "race", "-counts", file}, strings.NewReader(stream), &out, &errs); code != 1 {
		t.Errorf("a failing run exits %d, want 1", code)
	}
	if want := "== race: 5 tests (4 top-level, the rest subtests): 3 passed, 1 skipped, 1 failed; 1 package failed outside their tests, in 0s\n"; !strings.HasSuffix(out.String(), want) {
		t.Errorf("the run ends with:\n%s\nwant %q", out.String(), want)
	}
	out.Reset()
	if code := run([]string{"-total", file}, nil, &out, &errs); code != 1 {
		t.Errorf("the total of a passing and a failing run exits %d, want 1", code)
	}
	want := "== plain: 1 test (1 top-level, the rest subtests): 1 passed, 0 skipped, 0 failed\n" +
		"== race: 5 tests (4 top-level, the rest subtests): 3 passed, 1 skipped, 1 failed; 1 package failed outside their tests\n" +
		"== in all: 6 tests (5 top-level, the rest subtests): 4 passed, 1 skipped, 1 failed; 1 package failed outside their tests\n"
	if out.String() != want {
		t.Errorf("total:\n%s\nwant:\n%s", out.String(), want)
	}
	if code := run([]string{"-total", filepath.Join(t.TempDir(), "none")}, nil, &out, &errs); code != 2 {
		t.Errorf("a missing counts file exits %d, want 2", code)
	}
}
