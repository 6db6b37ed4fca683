000010*----------------------------------------------------------------
000020* 国民年金ファイル NENKIN.DAT（合成データ） RECFM=FB LRECL=80  IBM 930
000030*----------------------------------------------------------------
000040 01  NENKIN-HDR.
000050     05  REC-KBN            PIC X       VALUE 'H'.
000060     05  SAKUSEI-YMD        PIC 9(8).
000070     05  FILLER             PIC X(71).
000080 01  NENKIN-DATA.
000090     05  REC-KBN            PIC X       VALUE 'D'.
000100     05  ATENA-NO           PIC 9(15).
000110     05  KISO-NENKIN-NO     PIC 9(10).
000120     05  SHUBETSU           PIC X.
000130     05  SHUTOKU-GENGO      PIC X.
000140     05  SHUTOKU-YMD        PIC X(6).
000150     05  SOSHITSU-GENGO     PIC X.
000160     05  SOSHITSU-YMD       PIC X(6).
000170     05  SHUTOKU-JIYU       PIC X(2).
000180     05  SOSHITSU-JIYU      PIC X(2).
000190     05  FUKA-KBN           PIC X.
000200     05  MENJO-KBN          PIC X(2).
000210     05  HOKENRYO           PIC S9(9)   COMP-3.
000220     05  FILLER             PIC X(27).
000230 01  NENKIN-TRL.
000240     05  REC-KBN            PIC X       VALUE 'T'.
000250     05  KENSU              PIC 9(9).
000260     05  FILLER             PIC X(70).
