// cluster-key-slot ships no types: its default export is Redis Cluster's key → slot function (CRC16 mod 16384, hash tags honoured).
declare module 'cluster-key-slot' {
  function calculateSlot(key: string | Buffer): number;
  export default calculateSlot;
}
