package app

import (
	"context"
	"sync"
	"time"

	"wardline"
)

// Deliveries gathers "written to a member's event stream" reports and turns them into delivered
// watermarks: one transaction and one receipt per member and conversation per flush, however many
// messages were delivered meanwhile. Nothing here blocks the stream writers.
type Deliveries struct {
	d       *deps
	mu      sync.Mutex
	pending map[deliveryKey]delivery
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
}

type deliveryKey struct{ conv, user string }

type delivery struct {
	seq        int64
	msgID      string
	recipients []string
}

func newDeliveries(d *deps) *Deliveries {
	x := &Deliveries{d: d, pending: map[deliveryKey]delivery{}, stop: make(chan struct{}), done: make(chan struct{})}
	go x.loop()
	return x
}

// Delivered reports that message msgID at seq of convID was written to one of userID's streams.
// recipients are the conversation's members, who will hear the receipt.
func (x *Deliveries) Delivered(convID, userID string, seq int64, msgID string, recipients []string) {
	k := deliveryKey{convID, userID}
	x.mu.Lock()
	if cur, ok := x.pending[k]; !ok || cur.seq < seq {
		x.pending[k] = delivery{seq: seq, msgID: msgID, recipients: recipients}
	}
	x.mu.Unlock()
}

func (x *Deliveries) loop() {
	defer close(x.done)
	t := time.NewTicker(x.d.config.DeliveryFlushInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			x.Flush(context.Background())
		case <-x.stop:
			x.Flush(context.Background())
			return
		}
	}
}

// Flush writes what is pending now.
func (x *Deliveries) Flush(ctx context.Context) {
	x.mu.Lock()
	batch := x.pending
	if len(batch) == 0 {
		x.mu.Unlock()
		return
	}
	x.pending = make(map[deliveryKey]delivery, len(batch))
	x.mu.Unlock()

	now := x.d.now()
	advanced := make([]deliveryKey, 0, len(batch))
	err := x.d.store.Update(ctx, func(tx wardline.Tx) error {
		advanced = advanced[:0]
		for k, v := range batch {
			ok, err := tx.AdvanceWatermark(ctx, k.conv, k.user, wardline.ReceiptDelivered, v.seq, now)
			if isNotFound(err) {
				continue // no longer a member
			} else if err != nil {
				return err
			}
			if ok {
				advanced = append(advanced, k)
			}
		}
		return nil
	})
	if err != nil {
		x.d.log.Warn("record delivered watermarks", "err", err, "count", len(batch))
		return
	}
	for _, k := range advanced {
		v := batch[k]
		x.d.publishReceipt(ctx, v.recipients, &wardline.Receipt{ConversationID: k.conv, MessageID: v.msgID, Seq: v.seq, UserID: k.user, Kind: wardline.ReceiptDelivered, At: now})
	}
}

// Close flushes and stops.
func (x *Deliveries) Close() {
	x.once.Do(func() { close(x.stop) })
	<-x.done
}
