/** What both deliveries report for health. */
export interface DeliveryStatus {
  mode: 'in-process' | 'kafka';
  broker?: { reachable: boolean; error?: string };
  relays: { log: string; topic: string; position: number; head: number; lastError?: string }[];
  /** `partitions`: Kafka only, those of the topic this process holds in its group (replicas split them). */
  consumers: { consumer: string; context: string; group?: string; partitions?: number[]; lag: number | null; lastError?: string }[];
}

/** Feeds EventHandlers from the logs, by Kafka or in-process; handlers cannot tell which. */
export interface EventDelivery {
  readonly mode: 'in-process' | 'kafka';
  start(): Promise<void>;
  /** Finishes the in-flight work and commits, then stops. */
  stop(): Promise<void>;
  status(): Promise<DeliveryStatus>;
}
