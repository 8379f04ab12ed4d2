package status

import "testing"

func TestReadyAndSynced(t *testing.T) {
	for _, tc := range []struct {
		app           App
		synced, ready bool
	}{
		{App{Sync: "Synced", Health: "Healthy", Operation: "Succeeded"}, true, true},
		{App{Sync: "Synced", Health: "Healthy"}, true, true},
		// apiserver-only clusters: nothing runs the Pods.
		{App{Sync: "Synced", Health: "Progressing", Operation: "Succeeded"}, true, false},
		{App{Sync: "Synced", Health: "Healthy", Operation: "Running"}, false, false},
		{App{Sync: "OutOfSync", Health: "Healthy", Operation: "Succeeded"}, false, false},
		{App{Sync: "Unknown", Health: "Healthy", Operation: "Failed"}, false, false},
	} {
		if got := tc.app.Synced(); got != tc.synced {
			t.Errorf("%+v: Synced() = %v, want %v", tc.app, got, tc.synced)
		}
		if got := tc.app.Ready(); got != tc.ready {
			t.Errorf("%+v: Ready() = %v, want %v", tc.app, got, tc.ready)
		}
	}
}
