// emmett's decider: three functions and nothing else. decide reads state and returns events
// (or throws a Rejection before any event exists); evolve applies one event; replay is
// events.reduce(evolve, initialState()).

export interface Decider<Command, Event, State> {
  decide(command: Command, state: State): Event[];
  evolve(state: State, event: Event): State;
  initialState(): State;
}
