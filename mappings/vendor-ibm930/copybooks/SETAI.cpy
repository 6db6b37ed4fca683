000010*----------------------------------------------------------------
000020* 世帯ファイル SETAI.DAT（合成データ） RECFM=FB LRECL=160  IBM 930
000030*----------------------------------------------------------------
000040 01  SETAI-HDR.
000050     05  REC-KBN            PIC X       VALUE 'H'.
000060     05  SAKUSEI-YMD        PIC 9(8).
000070     05  FILLER             PIC X(151).
000080 01  SETAI-DATA.
000090     05  REC-KBN            PIC X       VALUE 'D'.
000100     05  SETAI-NO           PIC 9(15).
000110     05  SETAINUSHI-NO      PIC 9(15).
000120     05  YUBIN-NO           PIC X(7).
000130     05  JUSHO              PIC X(80).
000140     05  SETAIIN-SU         PIC 9(3).
000150     05  FILLER             PIC X(39).
000160 01  SETAI-TRL.
000170     05  REC-KBN            PIC X       VALUE 'T'.
000180     05  KENSU              PIC 9(9).
000190     05  FILLER             PIC X(150).
