000010*----------------------------------------------------------------
000020* 国民年金ファイル NENKIN.DAT（合成データ）  RECFM=VB  文字コード JEF
000030* 資格履歴は OCCURS DEPENDING ON（1人1レコード）
000040*----------------------------------------------------------------
000050 01  NENKIN-HEADER.
000060     05  REC-KBN            PIC X       VALUE '1'.
000070     05  SAKUSEI-YMD        PIC 9(8).
000080 01  NENKIN-REC.
000090     05  REC-KBN            PIC X       VALUE '2'.
000100     05  ATENA-NO           PIC 9(15).
000110     05  KISO-NENKIN-NO     PIC 9(10).
000120     05  SHIKAKU-SU         PIC S9(4)   COMP.
000130     05  SHIKAKU            OCCURS 1 TO 10 TIMES
000140                            DEPENDING ON SHIKAKU-SU.
000150         10  SHUBETSU       PIC X.
000160         10  SHUTOKU-YMD    PIC S9(8)   COMP-3.
000170         10  SOSHITSU-YMD   PIC 9(8).
000180         10  SHUTOKU-JIYU   PIC X(2).
000190         10  SOSHITSU-JIYU  PIC X(2).
000200         10  FUKA-KBN       PIC X.
000210         10  MENJO-KBN      PIC X(2).
000220         10  HOKENRYO       PIC S9(9)   COMP-3.
000230 01  NENKIN-TRAILER.
000240     05  REC-KBN            PIC X       VALUE '9'.
000250     05  KENSU              PIC 9(9).
