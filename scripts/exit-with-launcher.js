// Preloaded (`node -r`) into each service that `npm run start:distributed` starts. The launcher
// gives each service an IPC channel; when the launcher is gone for any reason (even SIGKILL, which
// it cannot handle), the channel closes and the service stops as on the launcher's own SIGTERM:
// it finishes its in-flight work and exits, rather than running on unowned, holding its port and
// consumer group. A service started any other way has no channel and is not affected.
if (typeof process.send === 'function' && process.channel) {
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
  // The channel alone must not keep a service that is shutting down alive.
  process.channel.unref();
}
