import { DomainException, ErrorClass, unreachable } from '@trellis/errors';

export enum MerkleErrorCode {
  InvalidIndex = 'MERKLE_INVALID_INDEX',
  InvalidTreeSize = 'MERKLE_INVALID_TREE_SIZE',
  MalformedHash = 'MERKLE_MALFORMED_HASH',
  InvalidLeaf = 'MERKLE_INVALID_LEAF',
}

/**
 * Input that cannot describe a leaf of a tree at all. A well-formed proof that does not lead to
 * the root is not an error: verification answers false for it.
 */
export class MerkleException extends DomainException<MerkleErrorCode> {
  constructor(code: MerkleErrorCode, message: string, fields: string[] = []) {
    super(code, message, fields);
  }

  get errorClass(): ErrorClass {
    switch (this.code) {
      case MerkleErrorCode.InvalidIndex:
      case MerkleErrorCode.InvalidTreeSize:
      case MerkleErrorCode.MalformedHash:
      case MerkleErrorCode.InvalidLeaf:
        return 'validation';
      default:
        return unreachable(this.code);
    }
  }
}
