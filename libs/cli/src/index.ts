// The CLI kit every command uses: argument parsing, the HTTP client, progress, exit codes and the runner.
export * from './cli-args';
export * from './cli-command';
export * from './cli-helpers';
export * from './cli-runner';
export * from './json-output';
export * from './trellis-http.client';
export * from './progress-bar';
export * from './user-path';
