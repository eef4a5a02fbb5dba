// A prepared answer: the record sections of a response, encoded once when the zone is built,
// stamped with each query's ID and question at answer time.
export interface Prepared {
  ancount: number;
  nscount: number;
  arcount: number;
  body: Buffer;
  /** Bytes of body holding answer and authority: the additional section may be dropped to fit. */
  essential: number;
}
