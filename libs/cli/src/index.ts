// The CLI kit every command uses: argument parsing, the HTTP client, progress and exit codes.
export * from './cli-args';
export * from './cli-command';
export * from './trellis-http.client';
export * from './progress-bar';
