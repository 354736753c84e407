/**
 * The business rules of one stream as pure functions (Emmett's Decider): `decide` turns a command
 * into events against the current state, `evolve` folds one event into the state. No clock, no
 * ids, no storage inside: whatever they need arrives in the command.
 */
export interface Decider<State, Command, Event> {
  decide(state: State, command: Command): Event[];
  evolve(state: State, event: Event): State;
  initialState: State;
}
