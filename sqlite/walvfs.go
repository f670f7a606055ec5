package sqlite

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// walVFSName is the VFS the write connection opens its database through (see registerWALVFS).
const walVFSName = "wardline-wal"

// walBufSize is how much of a commit's WAL frames one write may carry: the most the default
// VFS writes in one system call (it masks every write's length with 0x1ffff). At full load a
// group commit writes 100-200 frames of 4 KiB (and a 24-byte header each), so 5-7 writes.
const walBufSize = 0x1ffff

// The write connection's WAL goes through a thin VFS of Wardline's own, a copy of SQLite's
// default (unix) VFS whose WAL files gather consecutive writes into one. SQLite writes each WAL
// frame as two calls, its 24-byte header and then its page, so a group commit of 150 frames was
// 300 pwrite system calls, a tenth of the server's CPU at full load (docs/PERFORMANCE.md). Here
// they go out as one pwrite when SQLite next syncs, reads, sizes, truncates, controls or closes
// the file, or when a write does not follow on from the last. Nothing SQLite relies on changes:
//   - a commit is durable only once SQLite's sync returns, and the sync writes what was gathered
//     first (and reports that write's failure as the sync's);
//   - the write connection runs with synchronous=FULL, so every commit syncs its frames before
//     it publishes them to readers in the WAL index: other connections, which read the WAL
//     through the default VFS, never find a frame that is still gathered here;
//   - the connection's own reads of the file see its writes, as anything gathered is written
//     first;
//   - the writes reach the file in the order SQLite made them.
//
// Only files SQLite opens as a WAL are wrapped; the database file and everything else keep the
// default VFS's methods untouched.
var (
	walVFSOnce sync.Once
	walVFSErr  error
	baseOpen   uintptr   // the default VFS's xOpen
	vfsTLS     *libc.TLS // allocates what SQLite keeps: the VFS and the method tables

	walFilesMu sync.Mutex
	walFiles   = map[uintptr]*walFile{} // open WAL files, by their sqlite3_file
	walMethods = map[uintptr]uintptr{}  // wrapped method tables, by the one each wraps
)

// What SQLite holds an address of (the VFS, its name, the method tables, a buffer it writes
// from) is allocated outside Go's heap, with SQLite's own allocator, for the life of the process
// or of the file: Go's pointer checks (-race) refuse an address in Go's memory that comes back
// from SQLite as a number.

// walFile is the state of one wrapped WAL file.
type walFile struct {
	name string                       // the file's path
	base *sqlite3.Tsqlite3_io_methods // the default VFS's methods for the file
	buf  uintptr                      // walBufSize bytes, allocated at the first write
	n    int                          // gathered bytes in buf, to go at off
	off  int64

	writes, baseWrites int64       // SQLite's writes, and the default VFS's: for tests
	fail               atomic.Bool // tests: the default VFS's writes fail, as a full disk's would
}

// registerWALVFS registers walVFSName once per process.
func registerWALVFS() error {
	walVFSOnce.Do(func() {
		vfsTLS = libc.NewTLS()
		def := sqlite3.Xsqlite3_vfs_find(vfsTLS, 0)
		if def == 0 {
			walVFSErr = fmt.Errorf("sqlite: no default VFS")
			return
		}
		name, err := libc.CString(walVFSName)
		if err != nil {
			walVFSErr = err
			return
		}
		p := libc.Xmalloc(vfsTLS, uint64(unsafe.Sizeof(sqlite3.Tsqlite3_vfs{})))
		if p == 0 {
			walVFSErr = fmt.Errorf("sqlite: out of memory")
			return
		}
		vfs := (*sqlite3.Tsqlite3_vfs)(cptr(p))
		*vfs = *(*sqlite3.Tsqlite3_vfs)(cptr(def))
		baseOpen = vfs.FxOpen
		vfs.FpNext = 0
		vfs.FzName = name
		vfs.FxOpen = fnptr(walOpen)
		if rc := sqlite3.Xsqlite3_vfs_register(vfsTLS, p, 0); rc != sqlite3.SQLITE_OK {
			walVFSErr = fmt.Errorf("sqlite: register VFS %s: code %d", walVFSName, rc)
		}
	})
	return walVFSErr
}

// walOpen is the VFS's xOpen: the default VFS opens the file, and a WAL gets the wrapped methods.
func walOpen(tls *libc.TLS, pVfs, zName, pFile uintptr, flags int32, pOutFlags uintptr) int32 {
	rc := (*(*func(*libc.TLS, uintptr, uintptr, uintptr, int32, uintptr) int32)(unsafe.Pointer(&baseOpen)))(tls, pVfs, zName, pFile, flags, pOutFlags)
	if rc != sqlite3.SQLITE_OK || flags&sqlite3.SQLITE_OPEN_WAL == 0 {
		return rc
	}
	file := (*sqlite3.Tsqlite3_file)(cptr(pFile))
	if file.FpMethods == 0 {
		return rc
	}
	walFilesMu.Lock()
	defer walFilesMu.Unlock()
	methods := walMethods[file.FpMethods]
	if methods == 0 {
		if methods = libc.Xmalloc(vfsTLS, uint64(unsafe.Sizeof(sqlite3.Tsqlite3_io_methods{}))); methods == 0 {
			return sqlite3.SQLITE_NOMEM
		}
		m := (*sqlite3.Tsqlite3_io_methods)(cptr(methods))
		*m = *(*sqlite3.Tsqlite3_io_methods)(cptr(file.FpMethods))
		m.FxClose = fnptr(walClose)
		m.FxRead = fnptr(walRead)
		m.FxWrite = fnptr(walWrite)
		m.FxTruncate = fnptr(walTruncate)
		m.FxSync = fnptr(walSync)
		m.FxFileSize = fnptr(walFileSize)
		m.FxFileControl = fnptr(walFileControl)
		walMethods[file.FpMethods] = methods
	}
	walFiles[pFile] = &walFile{name: libc.GoString(zName), base: (*sqlite3.Tsqlite3_io_methods)(cptr(file.FpMethods))}
	file.FpMethods = methods
	return rc
}

func walFileOf(pFile uintptr) *walFile {
	walFilesMu.Lock()
	f := walFiles[pFile]
	walFilesMu.Unlock()
	return f
}

// flush writes what is gathered, in one call of the default VFS's xWrite.
func (f *walFile) flush(tls *libc.TLS, pFile uintptr) int32 {
	if f.n == 0 {
		return sqlite3.SQLITE_OK
	}
	n := f.n
	f.n = 0
	return f.write(tls, pFile, f.buf, int32(n), f.off)
}

// flushed returns the wrapped file at pFile once what it gathered is written.
func flushed(tls *libc.TLS, pFile uintptr) (*walFile, int32) {
	f := walFileOf(pFile)
	return f, f.flush(tls, pFile)
}

func walWrite(tls *libc.TLS, pFile, zBuf uintptr, iAmt int32, iOfst int64) int32 {
	f := walFileOf(pFile)
	f.writes++
	if f.n > 0 && (iOfst != f.off+int64(f.n) || f.n+int(iAmt) > walBufSize) {
		if rc := f.flush(tls, pFile); rc != sqlite3.SQLITE_OK {
			return rc
		}
	}
	if int(iAmt) > walBufSize {
		return f.write(tls, pFile, zBuf, iAmt, iOfst)
	}
	if f.buf == 0 {
		if f.buf = libc.Xmalloc(tls, walBufSize); f.buf == 0 {
			return sqlite3.SQLITE_NOMEM
		}
	}
	if f.n == 0 {
		f.off = iOfst
	}
	copy(unsafe.Slice((*byte)(cptr(f.buf)), walBufSize)[f.n:], unsafe.Slice((*byte)(cptr(zBuf)), iAmt))
	f.n += int(iAmt)
	return sqlite3.SQLITE_OK
}

func walRead(tls *libc.TLS, pFile, zBuf uintptr, iAmt int32, iOfst int64) int32 {
	f, rc := flushed(tls, pFile)
	if rc != sqlite3.SQLITE_OK {
		return rc
	}
	return (*(*func(*libc.TLS, uintptr, uintptr, int32, int64) int32)(unsafe.Pointer(&f.base.FxRead)))(tls, pFile, zBuf, iAmt, iOfst)
}

func walTruncate(tls *libc.TLS, pFile uintptr, size int64) int32 {
	f, rc := flushed(tls, pFile)
	if rc != sqlite3.SQLITE_OK {
		return rc
	}
	return (*(*func(*libc.TLS, uintptr, int64) int32)(unsafe.Pointer(&f.base.FxTruncate)))(tls, pFile, size)
}

func walSync(tls *libc.TLS, pFile uintptr, flags int32) int32 {
	if syncFloor > 0 {
		defer func(start time.Time) { time.Sleep(syncFloor - time.Since(start)) }(time.Now())
	}
	f, rc := flushed(tls, pFile)
	if rc != sqlite3.SQLITE_OK {
		return rc
	}
	return (*(*func(*libc.TLS, uintptr, int32) int32)(unsafe.Pointer(&f.base.FxSync)))(tls, pFile, flags)
}

func walFileSize(tls *libc.TLS, pFile, pSize uintptr) int32 {
	f, rc := flushed(tls, pFile)
	if rc != sqlite3.SQLITE_OK {
		return rc
	}
	return (*(*func(*libc.TLS, uintptr, uintptr) int32)(unsafe.Pointer(&f.base.FxFileSize)))(tls, pFile, pSize)
}

func walFileControl(tls *libc.TLS, pFile uintptr, op int32, pArg uintptr) int32 {
	f, rc := flushed(tls, pFile)
	if rc != sqlite3.SQLITE_OK {
		return rc
	}
	return (*(*func(*libc.TLS, uintptr, int32, uintptr) int32)(unsafe.Pointer(&f.base.FxFileControl)))(tls, pFile, op, pArg)
}

func walClose(tls *libc.TLS, pFile uintptr) int32 {
	f := walFileOf(pFile)
	rc := f.flush(tls, pFile)
	walFilesMu.Lock()
	delete(walFiles, pFile)
	walFilesMu.Unlock()
	if f.buf != 0 {
		libc.Xfree(tls, f.buf)
	}
	// The default xClose runs whatever happened, or the descriptor would leak.
	if crc := (*(*func(*libc.TLS, uintptr) int32)(unsafe.Pointer(&f.base.FxClose)))(tls, pFile); rc == sqlite3.SQLITE_OK {
		rc = crc
	}
	return rc
}

// write is the default VFS's xWrite.
func (f *walFile) write(tls *libc.TLS, pFile, zBuf uintptr, iAmt int32, iOfst int64) int32 {
	f.baseWrites++
	if f.fail.Load() {
		return sqlite3.SQLITE_IOERR_WRITE
	}
	return (*(*func(*libc.TLS, uintptr, uintptr, int32, int64) int32)(unsafe.Pointer(&f.base.FxWrite)))(tls, pFile, zBuf, iAmt, iOfst)
}

// fnptr is a Go function as SQLite (translated to Go) holds a C function pointer. fn must be a
// top-level function: its value then lives for the life of the process.
func fnptr[F any](fn F) uintptr { return *(*uintptr)(unsafe.Pointer(&fn)) }

// cptr is the pointer for an address SQLite handed over (memory outside Go's heap).
func cptr(p uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&p)) }
