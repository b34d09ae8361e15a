package wal_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/onemap/onemap/wal"
)

func Example() {
	dir, err := os.MkdirTemp("", "wal")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	l, err := wal.Open(dir, wal.Options{})
	if err != nil {
		log.Fatal(err)
	}
	// One write and one fsync for the whole batch.
	lsn, err := l.Append(context.Background(), []byte("GAS-00017 ch4 0.4"), []byte("GAS-00017 ch4 0.9"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("first LSN:", lsn)
	l.Close()

	// At the next start, rebuild state from the log.
	l, err = wal.Open(dir, wal.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	err = l.Replay(1, func(lsn uint64, rec []byte) error {
		fmt.Printf("%d %s\n", lsn, rec)
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// first LSN: 1
	// 1 GAS-00017 ch4 0.4
	// 2 GAS-00017 ch4 0.9
}
