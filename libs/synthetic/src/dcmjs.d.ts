// dcmjs ships no type declarations; this covers the parts Trellis uses (read, write, the
// data dictionary). Values are loosely typed on purpose: a DICOM element's value depends on its VR.
declare module 'dcmjs' {
  export interface DicomElement {
    vr: string;
    Value?: any[];
    _rawValue?: unknown;
    [key: string]: unknown;
  }
  export type DicomDataset = Record<string, DicomElement>;

  export namespace data {
    class DicomDict {
      constructor(meta: DicomDataset);
      meta: DicomDataset;
      dict: DicomDataset;
      write(options?: Record<string, unknown>): ArrayBuffer;
    }
    class DicomMessage {
      static readFile(
        buffer: ArrayBuffer,
        options?: { ignoreErrors?: boolean; untilTag?: string | null; includeUntilTagValue?: boolean; noCopy?: boolean; forceStoreRaw?: boolean },
      ): DicomDict;
    }
    class DicomMetaDictionary {
      static nameMap: Record<string, { tag: string; vr: string; name: string; vm: string; version: string }>;
      static dictionary: Record<string, { tag: string; vr: string; name: string; vm: string; version: string }>;
      static naturalizeDataset(dataset: DicomDataset): Record<string, any>;
      static denaturalizeDataset(dataset: Record<string, any>): DicomDataset;
      static uid(): string;
      static date(): string;
      static time(): string;
    }
  }
  const dcmjs: { data: typeof data };
  export default dcmjs;
}
